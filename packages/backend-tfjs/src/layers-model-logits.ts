import * as tf from '@tensorflow/tfjs-core';
import { AttributionError } from '@saliency/core';
import { attributedInput, type FeedValues, type ModelInput } from './feeds.js';
import { lrpLogits } from './lrp-model.js';
import type { LayerLike, LayersModelLike, ModelFunction, SymbolicTensorLike } from './model-types.js';
import {
  isFeatureMap,
  isTensor,
  notSeparating,
  unknownLayer,
  unstrippable,
  type LayerSplit,
  type LogitsFunction,
  type ModelParts,
} from './model-run.js';

const SOFTMAX_ACTIVATIONS = new Set(['softmax', 'logSoftmax']);
/**
 * A sigmoid is a probability head on a [B, K] output, or on any output
 * explained at a position (a detector's map); elsewhere, e.g. a segmentation
 * map, it is the model's own.
 */
const SIGMOID_ACTIVATION = 'sigmoid';

/** Concrete values of some of a LayersModel's symbolic tensors. */
type Values = ReadonlyMap<SymbolicTensorLike, tf.Tensor>;

/** What gives the logits: a symbolic tensor, and what is applied after it (a Dense layer's kernel and bias without its softmax). */
interface Head {
  readonly target: SymbolicTensorLike;
  readonly after?: ModelFunction;
  readonly description: string;
  /** The declared shape of the output explained (a probability head keeps it). */
  readonly shape: readonly (number | null)[];
}

function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => d ?? 'any').join(', ')}]`;
}

/**
 * A LayersModel as the backend runs it, evaluated layer by layer from values
 * given to some of its symbolic tensors: the attributed input (or the `layer`
 * option's output) and the other inputs (the feeds).
 */
export function layersModelLogits(model: LayersModelLike, parts: ModelParts): LogitsFunction {
  const modelName = `LayersModel ${model.name}`;
  // Inputs go by their InputLayer's name (the model's `inputNames`); the input tensor's name is taken too.
  const inputs: ModelInput[] = model.inputs.map((i) => ({ name: i.sourceLayer.name, shape: i.shape, dtype: i.dtype }));
  const inputName = model.inputs.find((i) => i.name === parts.inputName)?.sourceLayer.name ?? parts.inputName;
  const attributedName = attributedInput(inputs, inputName, modelName).name;
  const attributed = model.inputs.find((i) => i.sourceLayer.name === attributedName)!;
  const others = model.inputs.filter((i) => i !== attributed);
  const head = layersHead(model, parts);
  const order = topologicalOrder(head.target);
  const fromInput = dependents(order, attributed);

  const start = parts.layer === undefined ? attributed : namedTensor(order, fromInput, parts.layer, attributed);
  if (start !== attributed) {
    const through = pathAround(head.target, start, attributed, new Set());
    if (through !== undefined) throw notSeparating(parts.layer!, attributedName, `layer ${through.name}`);
  }
  const fromStart = start === attributed ? fromInput : dependents(order, start);
  const valuesAt = (at: SymbolicTensorLike, x: tf.Tensor, feeds: FeedValues): Map<SymbolicTensorLike, tf.Tensor> =>
    new Map([[at, x], ...others.map((i): [SymbolicTensorLike, tf.Tensor] => [i, feeds.get(i.sourceLayer.name)!])]);
  const logits = (values: Values): tf.Tensor => {
    const value = evaluate(head.target, values, new Map());
    return head.after === undefined ? value : head.after(value);
  };

  return {
    run: (x, feeds) => logits(valuesAt(start, x, feeds)),
    inputShape: start.shape,
    outputShape: head.shape,
    description: parts.layer === undefined ? head.description : `${head.description} from layer ${start.sourceLayer.name}`,
    inputs,
    attributedInputName: attributedName,
    ...(start === attributed ? {} : { attributedValue: (u, feeds) => evaluate(start, valuesAt(attributed, u, feeds), new Map()) }),
    // LRP reads the layers from the input to the output (the head stripped there as here).
    ...(start !== attributed
      ? {}
      : {
          lrp: (set) =>
            lrpLogits(
              model,
              parts.outputName === undefined ? model.outputs[0]! : namedOutput(model, parts.outputName),
              set,
              parts.softmax === 'strip',
            ),
        }),
    layerSplit(layer: string | undefined, x: tf.Tensor, feeds: FeedValues): LayerSplit {
      const tensor = layer === undefined ? defaultLayer(order, fromStart, start) : namedTensor(order, fromStart, layer, start);
      const values = valuesAt(start, x, feeds);
      return {
        name: tensor.sourceLayer.name,
        activation: evaluate(tensor, values, new Map()),
        logitsFrom: (a) => logits(new Map([...values, [tensor, a]])),
      };
    },
  };
}

/** The symbolic tensors `target` is computed from, itself included, each after those it reads. */
function topologicalOrder(target: SymbolicTensorLike): SymbolicTensorLike[] {
  const order: SymbolicTensorLike[] = [];
  const seen = new Set<SymbolicTensorLike>();
  const visit = (t: SymbolicTensorLike): void => {
    if (seen.has(t)) return;
    seen.add(t);
    for (const i of t.inputs) visit(i);
    order.push(t);
  };
  visit(target);
  return order;
}

/** The tensors of `order` computed from `from` (itself included). */
function dependents(order: readonly SymbolicTensorLike[], from: SymbolicTensorLike): Set<SymbolicTensorLike> {
  const found = new Set<SymbolicTensorLike>();
  for (const t of order) if (t === from || t.inputs.some((i) => found.has(i))) found.add(t);
  return found;
}

function describeTensor(t: SymbolicTensorLike): string {
  return `"${t.sourceLayer.name}" (${t.sourceLayer.getClassName()}) ${shapeText(t.shape)}`;
}

/** The tensor a layer name (or a tensor name) gives, which must be computed from `from`. */
function namedTensor(
  order: readonly SymbolicTensorLike[],
  fromStart: ReadonlySet<SymbolicTensorLike>,
  layer: string,
  from: SymbolicTensorLike,
): SymbolicTensorLike {
  const candidates = order.filter((t) => t !== from && fromStart.has(t));
  const byTensor = order.filter((t) => t.name === layer);
  const named = byTensor.length > 0 ? byTensor : order.filter((t) => t.sourceLayer.name === layer);
  if (named.length > 1) {
    throw new AttributionError(
      'INVALID_OPTION',
      `layer ${JSON.stringify(layer)} gives ${named.length} tensors (a layer called more than once, or with several outputs); ` +
        `name one of them: ${named.map((t) => t.name).join(', ')}`,
    );
  }
  const tensor = named[0];
  if (tensor === undefined || !candidates.includes(tensor)) {
    const why = tensor === undefined ? 'is no layer on the way to the logits' : `is not computed from "${from.sourceLayer.name}"`;
    throw unknownLayer(layer, why, candidates.map(describeTensor));
  }
  return tensor;
}

/** docs/methods.md, "Grad-CAM": the last tensor, in graph order, of the input's rank with more than one position. */
function defaultLayer(
  order: readonly SymbolicTensorLike[],
  fromStart: ReadonlySet<SymbolicTensorLike>,
  start: SymbolicTensorLike,
): SymbolicTensorLike {
  const last = order.filter((t) => t !== start && fromStart.has(t) && isFeatureMap(t.shape, start.shape.length)).at(-1);
  if (last === undefined) {
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `no layer to explain: no layer output of the input's rank ${start.shape.length} with more than one position lies between ` +
        `"${start.sourceLayer.name}" and the logits; give the layer by name`,
    );
  }
  return last;
}

/** A layer that reads `attributed` on a path from `target` that does not pass `start`, if any. */
function pathAround(
  target: SymbolicTensorLike,
  start: SymbolicTensorLike,
  attributed: SymbolicTensorLike,
  seen: Set<SymbolicTensorLike>,
): LayerLike | undefined {
  if (target === start || seen.has(target)) return undefined;
  seen.add(target);
  for (const input of target.inputs) {
    if (input === attributed) return target.sourceLayer;
    const found = pathAround(input, start, attributed, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The Dense layer's config that a `TimeDistributed` layer wraps, if it wraps one. */
function timeDistributedDense(layer: LayerLike): { readonly [key: string]: unknown } | undefined {
  if (layer.getClassName() !== 'TimeDistributed') return undefined;
  const inner = layer.getConfig()['layer'] as { className?: unknown; config?: { readonly [key: string]: unknown } } | undefined;
  return inner?.className === 'Dense' ? inner.config : undefined;
}

/** A layer's own config, or that of the Dense layer a `TimeDistributed` layer wraps (whose activation ends it). */
function denseConfigOf(layer: LayerLike): { readonly [key: string]: unknown } {
  return timeDistributedDense(layer) ?? layer.getConfig();
}

function activationOf(layer: LayerLike): string | undefined {
  const activation = denseConfigOf(layer)['activation'];
  return typeof activation === 'string' ? activation : undefined;
}

/** Whether a layer's output is a probability head (a sigmoid where `sigmoidIsHead`), looking into nested models. */
function layerEndsInProbabilityHead(layer: LayerLike, sigmoidIsHead: boolean): boolean {
  const className = layer.getClassName();
  if (className === 'Softmax') return true;
  const activation = activationOf(layer);
  if (activation !== undefined && (SOFTMAX_ACTIVATIONS.has(activation) || (activation === SIGMOID_ACTIVATION && sigmoidIsHead)))
    return true;
  const nested = layer as Partial<LayersModelLike>;
  if (Array.isArray(nested.layers) && nested.outputs !== undefined && nested.outputs.length === 1) {
    return layerEndsInProbabilityHead(nested.outputs[0]!.sourceLayer, sigmoidIsHead);
  }
  return false;
}

/** Where the logits are: the output (`outputName`, or the only one), before its probability head when stripped. */
function layersHead(model: LayersModelLike, parts: ModelParts): Head {
  const modelName = `LayersModel ${model.name}`;
  const output = parts.outputName === undefined ? onlyOutput(model) : namedOutput(model, parts.outputName);
  const last = output.sourceLayer;
  const shape = output.shape;
  const sigmoidIsHead = shape.length === 2 || parts.outputPosition !== undefined;
  if (parts.softmax === 'keep' || !layerEndsInProbabilityHead(last, sigmoidIsHead)) {
    return { target: output, shape, description: parts.outputName === undefined ? modelName : `${modelName} output ${output.name}` };
  }
  const className = last.getClassName();
  const lastInput = output.inputs.length === 1 ? output.inputs[0] : undefined;
  if (lastInput === undefined) throw unstrippable(`layer ${last.name} (${className})`);
  const description = `${modelName} without its final ${activationOf(last) ?? 'softmax'} (${last.name})`;
  if (className === 'Softmax' || className === 'Activation') return { target: lastInput, shape, description };
  if ((className === 'Dense' || timeDistributedDense(last) !== undefined) && lastInput.shape.length >= 2) {
    // The softmax is applied inside Dense.call, after its kernel and bias: redo
    // those two with the layer's own weights (read per call, so that weights set
    // later are used; they are the layer's variables, never copied or disposed).
    // On [B, ..., F] (a sequence), Dense and TimeDistributed(Dense) act on the last axis.
    const useBias = denseConfigOf(last)['useBias'] !== false;
    const after: ModelFunction = (hidden) => {
      const [kernel, bias] = last.getWeights();
      if (kernel === undefined || (useBias && bias === undefined)) throw unstrippable(`layer ${last.name} (${className})`);
      const features = hidden.shape.at(-1)!;
      const flat = hidden.rank === 2 ? tf.matMul(hidden, kernel) : tf.matMul(tf.reshape(hidden, [-1, features]), kernel);
      const z = hidden.rank === 2 ? flat : tf.reshape(flat, [...hidden.shape.slice(0, -1), kernel.shape[1]!]);
      return useBias && bias !== undefined ? tf.add(z, bias) : z;
    };
    return { target: lastInput, after, shape, description };
  }
  throw unstrippable(`layer ${last.name} (${className})`);
}

function onlyOutput(model: LayersModelLike): SymbolicTensorLike {
  const [output] = model.outputs;
  if (model.outputs.length !== 1 || output === undefined) {
    throw new AttributionError(
      'INVALID_OPTION',
      `createTfjsBackend: the LayersModel has ${model.outputs.length} outputs; name the one explained with outputName: ` +
        model.outputs.map((o) => `${o.name} (layer ${o.sourceLayer.name}, shape ${shapeText(o.shape)})`).join(', '),
    );
  }
  return output;
}

/** The output of a LayersModel named by its tensor name or its layer's name. */
function namedOutput(model: LayersModelLike, outputName: string): SymbolicTensorLike {
  const output = model.outputs.find((o) => o.name === outputName || o.sourceLayer.name === outputName);
  if (output === undefined) {
    throw new AttributionError(
      'INVALID_OPTION',
      `createTfjsBackend: the LayersModel has no output named ${JSON.stringify(outputName)}; ` +
        `its outputs are ${model.outputs.map((o) => `${o.name} (layer ${o.sourceLayer.name}, shape ${shapeText(o.shape)})`).join(', ')}`,
    );
  }
  return output;
}

/**
 * A `ReLU` layer with a `maxValue` (Keras's ReLU6) as one clamp kernel:
 * tfjs-layers computes it as a Relu kernel followed by a clip, so a modified
 * backward pass that replaces the Relu gradient (Guided Backprop, DeconvNet)
 * would reach ReLU6 too, which keeps its ordinary rule (docs/methods.md,
 * "Modified backward rules"), as PyTorch's ReLU6 and ONNX's Clip do. Relu6
 * for a cap of 6 (TF.js's own kernel), a clip to [0, cap] otherwise; the
 * values are the layer's. Undefined for every other layer.
 */
function cappedRelu(layer: LayerLike, args: readonly tf.Tensor[]): tf.Tensor | undefined {
  if (layer.getClassName() !== 'ReLU' || args.length !== 1) return undefined;
  const config = layer.getConfig();
  const cap = config['maxValue'];
  if (typeof cap !== 'number') return undefined;
  if ((config['negativeSlope'] ?? 0) !== 0 || (config['threshold'] ?? 0) !== 0) return undefined;
  return cap === 6 ? tf.relu6(args[0]!) : tf.clipByValue(args[0]!, 0, cap);
}

/**
 * Computes the symbolic tensor `target` from the values given to some
 * tensors, by applying the layers that lead to it, each call once, in
 * inference mode. (`LayersModel.execute` would do this by name, but fails on
 * models holding a layer called more than once, e.g. a nested base model.)
 */
function evaluate(target: SymbolicTensorLike, values: Values, calls: Map<readonly SymbolicTensorLike[], unknown>): tf.Tensor {
  const given = values.get(target);
  if (given !== undefined) return given;
  if (target.inputs.length === 0) {
    throw new AttributionError('UNSUPPORTED_MODEL', `the LayersModel's tensor ${target.name} is needed for the logits but has no value`);
  }
  // All outputs of one layer call share their `inputs` list: call it once.
  let result = calls.get(target.inputs);
  if (result === undefined) {
    const args = target.inputs.map((t) => evaluate(t, values, calls));
    result =
      cappedRelu(target.sourceLayer, args) ??
      target.sourceLayer.apply(args.length === 1 ? args[0]! : args, { ...target.callArgs, training: false });
    calls.set(target.inputs, result);
  }
  const outputs = Array.isArray(result) ? result : [result];
  const value = outputs[target.outputTensorIndex ?? 0];
  if (!isTensor(value)) {
    throw new AttributionError('BACKEND_OUTPUT', `layer ${target.sourceLayer.name} did not return a tensor`);
  }
  return value;
}
