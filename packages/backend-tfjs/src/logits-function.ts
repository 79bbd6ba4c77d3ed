import * as tf from '@tensorflow/tfjs-core';
import { AttributionError } from '@saliency/core';
import {
  isGraphModel,
  isLayersModel,
  type GraphModelLike,
  type LayerLike,
  type LayersModelLike,
  type ModelFunction,
  type SymbolicTensorLike,
  type TfjsModel,
} from './model-types.js';

/**
 * What the backend differentiates.
 *
 * - `'strip'` (default): the logits. A LayersModel or GraphModel whose last
 *   operation is a probability head — a softmax, a log-softmax, or a sigmoid
 *   on a [B, K] output (binary or multi-label) — is run up to that
 *   operation's input, as the method contract asks (gradients are of logits,
 *   never of probabilities; docs/methods.md).
 * - `'keep'`: the model's output as it is, its softmax or sigmoid included.
 *
 * A plain function is always taken as it is: it is trusted to return logits.
 */
export type SoftmaxHandling = 'strip' | 'keep';

/** A model reduced to what the backend runs: a function and what it accepts. */
export interface LogitsFunction {
  readonly run: ModelFunction;
  /** The accepted input shape, `null` where any size goes; `undefined` if unknown. */
  readonly inputShape: readonly (number | null)[] | undefined;
  /** Which model kind this is and what was stripped, for messages. */
  readonly description: string;
}

const SOFTMAX_ACTIVATIONS = new Set(['softmax', 'logSoftmax']);
const SOFTMAX_OPS = new Set(['Softmax', 'LogSoftmax']);
/** A sigmoid is a probability head on a [B, K] output only (elsewhere, e.g. a segmentation map, it is the model's own). */
const SIGMOID_ACTIVATION = 'sigmoid';
const SIGMOID_OP = 'Sigmoid';
const PASS_THROUGH_OPS = new Set(['Identity', 'IdentityN', 'StopGradient', 'Snapshot']);

/**
 * Builds the function the backend differentiates from any accepted model.
 * `outputName` picks one output of a model with several (a LayersModel's
 * output tensor or layer name; a GraphModel's node, which may be any node of
 * its graph), as the ONNX backend's option of that name does.
 */
export function logitsFunction(model: TfjsModel, softmax: SoftmaxHandling, outputName?: string): LogitsFunction {
  if (typeof model === 'function') {
    if (outputName !== undefined) {
      throw new AttributionError(
        'INVALID_OPTION',
        'createTfjsBackend: outputName applies to a LayersModel or GraphModel, not to a function',
      );
    }
    return { run: model, inputShape: undefined, description: 'function' };
  }
  if (isLayersModel(model)) return layersModelLogits(model, softmax, outputName);
  if (isGraphModel(model)) return graphModelLogits(model, softmax, outputName);
  throw new TypeError('createTfjsBackend: the model must be a tf.LayersModel, a tf.GraphModel or a function (x: tf.Tensor) => tf.Tensor');
}

function single<T>(items: readonly T[], what: string, modelKind: string): T {
  const [item] = items;
  if (items.length !== 1 || item === undefined) {
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `createTfjsBackend: the ${modelKind} has ${items.length} ${what}s; only models with one ${what} are supported ` +
        '(wrap it in a function (x: tf.Tensor) => tf.Tensor that returns the logits [R, K])',
    );
  }
  return item;
}

/**
 * Whether a value is a TF.js tensor. Structural rather than `instanceof`, which
 * fails when a bundle holds two copies of tfjs-core (their engine is shared).
 */
function isTensor(value: unknown): value is tf.Tensor {
  return typeof value === 'object' && value !== null && 'dataId' in value && Array.isArray((value as tf.Tensor).shape);
}

function asTensor(result: unknown, what: string): tf.Tensor {
  if (Array.isArray(result)) {
    throw new AttributionError('BACKEND_OUTPUT', `${what} returned ${result.length} tensors; expected one tensor [R, K]`);
  }
  if (!isTensor(result)) {
    throw new AttributionError('BACKEND_OUTPUT', `${what} did not return a tensor`);
  }
  return result;
}

function activationOf(layer: LayerLike): string | undefined {
  const activation = layer.getConfig()['activation'];
  return typeof activation === 'string' ? activation : undefined;
}

/** Whether a layer's output (of rank `rank`) is a probability head, looking into nested models. */
function layerEndsInProbabilityHead(layer: LayerLike, rank: number): boolean {
  const className = layer.getClassName();
  if (className === 'Softmax') return true;
  const activation = activationOf(layer);
  if (activation !== undefined && (SOFTMAX_ACTIVATIONS.has(activation) || (activation === SIGMOID_ACTIVATION && rank === 2))) return true;
  const nested = layer as Partial<LayersModelLike>;
  if (Array.isArray(nested.layers) && nested.outputs !== undefined && nested.outputs.length === 1) {
    return layerEndsInProbabilityHead(nested.outputs[0]!.sourceLayer, rank);
  }
  return false;
}

function unstrippable(where: string): AttributionError {
  return new AttributionError(
    'UNSUPPORTED_MODEL',
    `createTfjsBackend: the model ends in a softmax or sigmoid fused into ${where}, which cannot be removed. ` +
      'Gradients are taken of logits: pass a function (x: tf.Tensor) => tf.Tensor that returns the logits, ' +
      "or pass { softmax: 'keep' } to differentiate the output as it is",
  );
}

function layersModelLogits(model: LayersModelLike, softmax: SoftmaxHandling, outputName?: string): LogitsFunction {
  const input = single(model.inputs, 'input', 'LayersModel');
  const output = outputName === undefined ? single(model.outputs, 'output', 'LayersModel') : namedOutput(model, outputName);
  const inputShape = input.shape;
  const modelName = `LayersModel ${model.name}`;

  const last = output.sourceLayer;
  if (outputName !== undefined && (softmax === 'keep' || !layerEndsInProbabilityHead(last, output.shape.length))) {
    return {
      run: (x) => evaluateSymbolic(output, input, x, new Map()),
      inputShape,
      description: `${modelName} output ${output.name}`,
    };
  }
  if (softmax === 'keep' || !layerEndsInProbabilityHead(last, output.shape.length)) {
    return {
      run: (x) => asTensor(model.apply(x, { training: false }), modelName),
      inputShape,
      description: modelName,
    };
  }
  const className = last.getClassName();
  const lastInput = output.inputs.length === 1 ? output.inputs[0] : undefined;
  if (lastInput === undefined) throw unstrippable(`layer ${last.name} (${className})`);
  const description = `${modelName} without its final ${activationOf(last) ?? 'softmax'} (${last.name})`;
  const hidden: ModelFunction = (x) => evaluateSymbolic(lastInput, input, x, new Map());

  if (className === 'Softmax' || className === 'Activation') {
    return { run: hidden, inputShape, description };
  }
  if (className === 'Dense' && lastInput.shape.length === 2) {
    // The softmax is applied inside Dense.call, after its kernel and bias: redo
    // those two with the layer's own weights (read per call, so that weights set
    // later are used; they are the layer's variables, never copied or disposed).
    const useBias = last.getConfig()['useBias'] !== false;
    return {
      run: (x) => {
        const [kernel, bias] = last.getWeights();
        if (kernel === undefined || (useBias && bias === undefined)) throw unstrippable(`layer ${last.name} (Dense)`);
        const z = tf.matMul(hidden(x), kernel);
        return useBias && bias !== undefined ? tf.add(z, bias) : z;
      },
      inputShape,
      description,
    };
  }
  throw unstrippable(`layer ${last.name} (${className})`);
}

/** The output of a LayersModel named by its tensor name or its layer's name. */
export function namedOutput(model: LayersModelLike, outputName: string): SymbolicTensorLike {
  const output = model.outputs.find((o) => o.name === outputName || o.sourceLayer.name === outputName);
  if (output === undefined) {
    throw new AttributionError(
      'INVALID_OPTION',
      `createTfjsBackend: the LayersModel has no output named ${JSON.stringify(outputName)}; ` +
        `its outputs are ${model.outputs.map((o) => `${o.name} (layer ${o.sourceLayer.name}, shape [${o.shape.map((d) => d ?? 'any').join(', ')}])`).join(', ')}`,
    );
  }
  return output;
}

/**
 * Computes the symbolic tensor `target` of a LayersModel from a concrete value
 * `x` of its input, by applying the layers that lead to it, each once, in
 * inference mode. (`LayersModel.execute` would do this by name, but fails on
 * models holding a layer called more than once, e.g. a nested base model.)
 */
function evaluateSymbolic(
  target: SymbolicTensorLike,
  input: SymbolicTensorLike,
  x: tf.Tensor,
  calls: Map<readonly SymbolicTensorLike[], unknown>,
): tf.Tensor {
  if (target === input) return x;
  if (target.inputs.length === 0) {
    throw new AttributionError('UNSUPPORTED_MODEL', `the LayersModel's tensor ${target.name} does not depend on its input`);
  }
  // All outputs of one layer call share their `inputs` list: call it once.
  let result = calls.get(target.inputs);
  if (result === undefined) {
    const args = target.inputs.map((t) => evaluateSymbolic(t, input, x, calls));
    result = target.sourceLayer.apply(args.length === 1 ? args[0]! : args, { ...target.callArgs, training: false });
    calls.set(target.inputs, result);
  }
  const outputs = Array.isArray(result) ? result : [result];
  const value = outputs[target.outputTensorIndex ?? 0];
  if (!isTensor(value)) {
    throw new AttributionError('BACKEND_OUTPUT', `layer ${target.sourceLayer.name} did not return a tensor`);
  }
  return value;
}

/** The parts of tfjs-converter's graph that the output op is read from. */
interface GraphNodeLike {
  readonly name: string;
  readonly op: string;
  readonly inputNames: readonly string[];
  readonly inputs: readonly GraphNodeLike[];
}

/** tfjs-converter's graph, kept on a private `executor`; undefined if a future version moves it. */
function graphOf(model: GraphModelLike): { outputs?: unknown; nodes?: Record<string, unknown> } | undefined {
  return (model as unknown as { executor?: { graph?: { outputs?: unknown; nodes?: Record<string, unknown> } } }).executor?.graph;
}

function asGraphNode(value: unknown): GraphNodeLike | undefined {
  const node = value as Partial<GraphNodeLike> | undefined;
  if (typeof node?.op !== 'string' || !Array.isArray(node.inputs) || !Array.isArray(node.inputNames)) return undefined;
  return node as GraphNodeLike;
}

/** The rank of the GraphModel's single output where its signature gives it (a sigmoid is a probability head on [B, K] only; the backend takes no other output). */
function graphOutputRank(model: GraphModelLike): number | undefined {
  return model.outputs[0]?.shape?.length;
}

/**
 * The node that produces the GraphModel's output (or the node `outputName`).
 * If the graph cannot be read, the output op is unknown and the model is run
 * as it is.
 */
function graphOutputNode(model: GraphModelLike, outputName: string | undefined): GraphNodeLike | undefined {
  const graph = graphOf(model);
  if (outputName !== undefined) return asGraphNode(graph?.nodes?.[outputName]);
  const outputs = graph?.outputs;
  if (!Array.isArray(outputs) || outputs.length !== 1) return undefined;
  return asGraphNode(outputs[0]);
}

function graphModelLogits(model: GraphModelLike, softmax: SoftmaxHandling, outputName?: string): LogitsFunction {
  const input = single(model.inputs, 'input', 'GraphModel');
  if (outputName === undefined) single(model.outputs, 'output', 'GraphModel');
  // A tensor name "node:0" names output 0 of the node.
  const nodeName = outputName?.replace(/:0$/, '');
  const nodes = graphOf(model)?.nodes;
  if (nodeName !== undefined && nodes !== undefined && !(nodeName in nodes)) {
    throw new AttributionError(
      'INVALID_OPTION',
      `createTfjsBackend: the GraphModel has no node named ${JSON.stringify(outputName)}; its outputs are ` +
        `${model.outputs.map((o) => `${o.name} [${o.shape?.join(', ') ?? '?'}]`).join(', ')}, and any node of its graph may be named`,
    );
  }
  // GraphModel shapes write an unknown size as -1.
  const inputShape = input.shape?.map((d) => (d < 0 ? null : d));
  const runTo =
    (name: string | undefined): ModelFunction =>
    (x) =>
      asTensor(model.execute(x, name), 'GraphModel');
  const described = nodeName === undefined ? 'GraphModel' : `GraphModel output ${nodeName}`;

  let node = softmax === 'strip' ? graphOutputNode(model, nodeName) : undefined;
  while (node !== undefined && PASS_THROUGH_OPS.has(node.op) && node.inputs.length >= 1) node = node.inputs[0];
  if (
    node === undefined ||
    !(SOFTMAX_OPS.has(node.op) || (node.op === SIGMOID_OP && ((nodeName === undefined ? graphOutputRank(model) : undefined) ?? 2) === 2))
  ) {
    return { run: runTo(nodeName), inputShape, description: described };
  }
  const logitsName = node.inputNames.find((name) => !name.startsWith('^'));
  if (logitsName === undefined) throw unstrippable(`node ${node.name} (${node.op})`);
  return { run: runTo(logitsName), inputShape, description: `GraphModel without its final ${node.op} (${node.name})` };
}
