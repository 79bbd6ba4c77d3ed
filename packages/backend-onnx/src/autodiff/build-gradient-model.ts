import { clone, create, toBinary } from '@bufbuild/protobuf';
import {
  AttributionError,
  checkOutputPosition,
  describeOutputPosition,
  formatShape,
  outputPositionHint,
  sizeOf,
  type OutputPosition,
} from '@saliency/core';
import { checkRunsOn, supports, type ExecutionProvider } from '../execution-provider/execution-provider.js';
import { describeNode } from '../model/attributes.js';
import type { ModelBudgets } from '../model/budgets.js';
import { writeTensorProto } from '../model/const-tensor.js';
import { DataType, isFloatType } from '../model/data-type.js';
import { defaultOpset } from '../model/onnx-model.js';
import { valueInfo as tensorValueInfo } from '../model/value-info.js';
import { outputPositionHead } from '../model/output-position.js';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  type GraphProto,
  NodeProtoSchema,
  type ModelProto,
  type NodeProto,
  type ValueInfoProto,
} from '../proto/onnx_pb.js';
import type { GradientContext, GradientRule, TensorType } from '../ops/op-definition.js';
import { OPS } from '../ops/registry.js';
import { backwardRuleSet } from '../backward/rule-set.js';
import { foldBatchNorm } from '../passes/fold-batch-norm.js';
import { lowerToFloat16 } from '../passes/lower-to-float16.js';
import type { GraphFacts } from './graph-facts.js';
import { GraphEmitter } from './graph-emitter.js';
import { inferGraph, producersOf } from './infer-graph.js';
import { layerTensor } from './layer-tensor.js';
import { nodeContext } from './node-context.js';
import { plannedActivationBytes } from './planned-bytes.js';
import { copyViewsReadElementwise } from './view-copies.js';

/** Names of the built model's extra input and its outputs. */
export const COTANGENT_INPUT = 'saliency/logits_cotangent';
export const LOGITS_OUTPUT = 'saliency/logits';
export const GRADIENT_OUTPUT = 'saliency/input_gradient';
export const MEAN_OUTPUT = 'saliency/gradient_mean';
export const M2_OUTPUT = 'saliency/gradient_m2';
export const LAYER_ACTIVATION_OUTPUT = 'saliency/layer_activation';
export const LAYER_GRADIENT_OUTPUT = 'saliency/layer_gradient';

export interface GradientModelRequest {
  /** The model's input, shaped as in use, batch axis first. */
  readonly inputName: string;
  readonly inputShape: readonly number[];
  /** The model's output differentiated (after its final softmax or sigmoid is left out, unless `keepSoftmax`). */
  readonly outputName: string;
  readonly keepSoftmax: boolean;
  /**
   * One position of a sequence or dense output explained as [B, K] logits
   * (`model/output-position.ts`), selected after the softmax or sigmoid is left out.
   */
  readonly outputPosition?: OutputPosition;
  /**
   * What the model returns besides the logits: `'none'`; `'gradient'`, the
   * input gradient `x̄ = Jᵀ ȳ` for the cotangent `ȳ` given as an input; or
   * `'moments'`, the gradient reduced over groups of `groupSize` consecutive
   * rows to their mean and summed squared deviations, on the device; or
   * `'layer'`, the activation of the tensor `layer` and the cotangent's
   * gradient with respect to it (no `layer`: the default of `layer-tensor.ts`).
   */
  readonly result: 'none' | 'gradient' | 'moments' | 'layer';
  readonly groupSize?: number;
  /**
   * `'moments'` only: the cotangent is one row per group, `[G, 1, K]`, which
   * the graph expands to the group's `groupSize` rows (every row of a group
   * explains the same target, docs/methods.md "Noise"), so that what goes up
   * per run does not grow with the group size. Default: one row per row, `[G·N, K]`.
   */
  readonly groupCotangent?: boolean;
  /** The tensor of a `'layer'` result. */
  readonly layer?: string;
  /**
   * A named modified backward rule set (`backward/rule-set.ts`): its rules
   * replace those of ops/ for the op types it names. Default: the gradient.
   */
  readonly backward?: string;
  /**
   * The execution provider the model is built for (default `'cpu'`): the
   * rules emit only op forms it runs (`execution-provider/execution-provider.ts`), and for
   * `'webgl'` the built graph is checked op by op and refused, naming the op
   * and node, if the WebGL EP still lacks one (e.g. a 1-D Conv of the model).
   */
  readonly executionProvider?: ExecutionProvider;
  /** What building may allocate and plan (`model/budgets.ts`); the defaults where absent. */
  readonly budgets?: ModelBudgets;
  /**
   * `'float16'`: the graph computes in float16 behind float32 inputs and
   * outputs, the moments' reduction in float32 (`passes/lower-to-float16.ts`).
   * Default `'float32'`: as the model is (after `passes/prepare-model.ts`).
   */
  readonly precision?: Precision;
  /**
   * The shapes, at this call's rows, of the graph inputs fed with fixed
   * values (`runtime/feeds.ts`): inputs of the built model wherever its
   * kept nodes read them.
   */
  readonly feedShapes?: ReadonlyMap<string, readonly number[]>;
  /**
   * The shapes of graph inputs given no value (the model input, when the
   * attributed tensor lies inside the model): shape arithmetic on them
   * folds; a kept node that reads one is refused.
   */
  readonly unfedShapes?: ReadonlyMap<string, readonly number[]>;
}

/** What a gradient graph computes in (docs/methods.md, "Precision"). */
export type Precision = 'float32' | 'float16';

/** A built model before it is serialised, for callers that compose it into a larger graph. */
export interface BuiltGraph {
  readonly model: ModelProto;
  readonly logitsShape: readonly number[];
  /** The shape of the cotangent input (`cotangentShape`); absent for `'none'`. */
  readonly cotangentShape?: readonly number[];
  /** What was differentiated, for messages: the output, and the softmax or sigmoid left out if one was. */
  readonly description: string;
  /** Estimated bytes of the activations a run plans (`planned-bytes.ts`), for the session cache's bound. */
  readonly activationBytes: number;
  /** The tensor of a `'layer'` result, as given or chosen. */
  readonly layer?: string;
}

export interface BuiltModel extends Omit<BuiltGraph, 'model'> {
  readonly bytes: Uint8Array;
}

const PASS_THROUGH = new Set(['Identity', 'Dropout']);
/**
 * Probability heads left out by default, so that the gradient is of the
 * logits (docs/methods.md): a softmax, and a sigmoid (binary or multi-label
 * [B, K] outputs; through it, float32's resolution of 1 − s near s = 1 would
 * bound every map's precision, and the map would explain a probability).
 */
const PROBABILITY_HEADS = new Set(['Softmax', 'LogSoftmax', 'Sigmoid']);

/**
 * Builds, for one input shape, a model that returns the logits and (on
 * request) the input gradient of the cotangent-weighted logits, from standard
 * ONNX ops with static shapes: the forward nodes on the path from the input
 * to the logits (values known at build time become initializers, so shape
 * arithmetic disappears), then each of those nodes' gradient rules in
 * reverse order. No weight gradient is computed: a rule is asked only for
 * the inputs that depend on the model input.
 */
export function buildGradientModel(model: ModelProto, request: GradientModelRequest): BuiltModel {
  const built = buildGradientGraph(model, request);
  const { model: graphModel, ...rest } = built;
  return { bytes: toBinary(ModelProtoSchema, graphModel), ...rest };
}

/** `buildGradientModel` without the serialisation: the built model as a `ModelProto`. */
export function buildGradientGraph(original: ModelProto, request: GradientModelRequest): BuiltGraph {
  const ruleSet = request.result === 'none' || request.backward === undefined ? undefined : backwardRuleSet(request.backward);
  const model = ruleSet?.foldsBatchNorm ? foldBatchNorm(original) : original;
  const opset = defaultOpset(model);
  const inputShapes = new Map([...(request.unfedShapes ?? []), ...(request.feedShapes ?? []), [request.inputName, request.inputShape]]);
  const facts = inferGraph(model.graph!, opset, inputShapes, request.budgets, [request.outputName]);
  const head = logitsOf(request, facts.graph.node, producersOf(facts.graph.node));
  const headType = facts.types.get(head.logits);
  if (headType === undefined) throw new AttributionError('INVALID_MODEL', `${head.description} is produced by no node of the graph`);
  const { graph, logits, description } =
    request.outputPosition === undefined
      ? { graph: facts.graph, ...head }
      : withOutputPosition(facts.graph, head, headType, request, facts, opset);
  const producers = producersOf(graph.node);
  const logitsType = facts.types.get(logits)!;
  const explained = explainedShape(logitsType.shape, request.inputShape[0]!);
  if (explained === undefined) {
    throw new AttributionError(
      'BACKEND_OUTPUT',
      `${description} has shape ${formatShape(logitsType.shape)} for an input of shape ${formatShape(request.inputShape)}; ` +
        `expected logits of shape [${request.inputShape[0]}, K] (or [${request.inputShape[0]}, K, 1, …], or one score [${request.inputShape[0]}])` +
        (logitsType.shape.length >= 3 && logitsType.shape[0] === request.inputShape[0] ? outputPositionHint(logitsType.shape) : ''),
    );
  }

  const { forward, fromInput } = forwardFromInput(graph, facts, producers, logits, request.inputName);
  if (!fromInput.has(logits)) {
    throw new AttributionError('UNSUPPORTED_MODEL', `${description} does not depend on the input "${request.inputName}"`);
  }

  const taken = new Set<string>([...producers.keys(), ...facts.types.keys()]);
  const executionProvider = request.executionProvider ?? 'cpu';
  const emitter = new GraphEmitter(taken, facts.types, opset, executionProvider);
  const forwardNodes = new Map<number, NodeProto>(forward.map((index) => [index, graph.node[index]!]));
  const explainedType = { dataType: logitsType.dataType, shape: explained };
  const outputs: ValueInfoProto[] = [];
  // A moments run reads only the statistics: its rows' logits would be N × K floats copied back for nothing.
  if (request.result !== 'moments') {
    outputs.push(valueInfo(LOGITS_OUTPUT, explainedType));
    const asExplained = emitter.reshape(logits, explained, logitsType.shape);
    emitter.nodes.push(
      create(NodeProtoSchema, { opType: 'Identity', name: 'saliency/logits', input: [asExplained], output: [LOGITS_OUTPUT] }),
    );
  }
  const inputs: ValueInfoProto[] = [valueInfo(request.inputName, facts.types.get(request.inputName)!)];
  const shapeOfCotangent = request.result === 'none' ? undefined : cotangentShape(request, explained);

  let layer: string | undefined;
  /** Where the moments' reduction starts, which stays float32 in a float16 graph. */
  let momentsFrom: string | undefined;
  if (request.result !== 'none') {
    inputs.push(valueInfo(COTANGENT_INPUT, { dataType: DataType.FLOAT, shape: shapeOfCotangent! }));
    const cotangent = shapeOfCotangent!.length === 3 ? groupRows(emitter, shapeOfCotangent!, explained) : COTANGENT_INPUT;
    const path = forward
      .filter((index) => graph.node[index]!.output.some((name) => fromInput.has(name)))
      .map((index) => graph.node[index]!);
    const overrides = ruleSet?.overrides({ inputName: request.inputName, nodes: path }) ?? new Map<string, GradientRule>();
    const state: BuildState = { nodes: graph.node, forward, forwardNodes, fromInput, facts, opset, emitter, overrides };
    layer = request.result === 'layer' ? layerTensor(request.layer, request.inputName, fromInput, facts, producers) : undefined;
    const wrt = layer ?? request.inputName;
    const gradient = backpropagate(state, cotangent, logits, wrt, producers.get(wrt));
    const inputType = facts.types.get(request.inputName)!;
    if (request.result === 'layer') {
      emitter.nodes.push(
        create(NodeProtoSchema, { opType: 'Identity', name: 'saliency/layer_activation', input: [wrt], output: [LAYER_ACTIVATION_OUTPUT] }),
        create(NodeProtoSchema, {
          opType: 'Identity',
          name: 'saliency/layer_gradient',
          input: [gradient],
          output: [LAYER_GRADIENT_OUTPUT],
        }),
      );
      const layerType = facts.types.get(wrt)!;
      outputs.push(valueInfo(LAYER_ACTIVATION_OUTPUT, layerType), valueInfo(LAYER_GRADIENT_OUTPUT, layerType));
    } else if (request.result === 'gradient') {
      emitter.nodes.push(
        create(NodeProtoSchema, { opType: 'Identity', name: 'saliency/gradient', input: [gradient], output: [GRADIENT_OUTPUT] }),
      );
      outputs.push(valueInfo(GRADIENT_OUTPUT, inputType));
    } else {
      const [rows, ...exampleShape] = inputType.shape;
      const n = request.groupSize ?? rows!;
      const groups = rows! / n;
      const size = exampleShape.reduce((a, b) => a * b, 1);
      momentsFrom = gradient;
      const grouped = emitter.reshape(gradient, [groups, n, size]);
      const mean = emitter.reduce('ReduceMean', grouped, [groups, n, size], [1], true);
      const deviation = emitter.node('Sub', [grouped, mean], 1)[0]!;
      const squares = emitter.node('Mul', [deviation, deviation], 1)[0]!;
      const m2 = emitter.reduce('ReduceSum', squares, [groups, n, size], [1], false);
      const momentType = { dataType: DataType.FLOAT, shape: [groups, ...exampleShape] };
      emitter.nodes.push(
        create(NodeProtoSchema, {
          opType: 'Reshape',
          name: 'saliency/mean',
          input: [mean, emitter.literal(momentType.shape, [momentType.shape.length], DataType.INT64)],
          output: [MEAN_OUTPUT],
        }),
        create(NodeProtoSchema, {
          opType: 'Reshape',
          name: 'saliency/m2',
          input: [m2, emitter.literal(momentType.shape, [momentType.shape.length], DataType.INT64)],
          output: [M2_OUTPUT],
        }),
      );
      outputs.push(valueInfo(MEAN_OUTPUT, momentType), valueInfo(M2_OUTPUT, momentType));
    }
  }

  // Constants that the kept nodes read: the model's initializers they use, and folded values.
  const keptNodes = neededNodes(
    copyOutputsKept(
      copyViewsReadElementwise(
        [...[...forwardNodes.values()].map((node) => legalizeForward(node, emitter)), ...emitter.nodes],
        emitter,
        facts,
      ),
      new Set(outputs.map((o) => o.name)),
      emitter,
      facts,
    ),
    new Set(outputs.map((o) => o.name)),
  );
  const produced = new Set(keptNodes.flatMap((node) => node.output));
  const read = new Set(keptNodes.flatMap((node) => node.input));
  const initializers = graph.initializer.filter((tensor) => read.has(tensor.name));
  const present = new Set([...initializers, ...emitter.initializers].map((t) => t.name));
  for (const name of read) {
    if (name === '' || present.has(name) || produced.has(name) || name === request.inputName || name === COTANGENT_INPUT) continue;
    if (request.feedShapes?.has(name)) continue;
    if (request.unfedShapes?.has(name)) {
      const reader = keptNodes.find((node) => node.input.includes(name))!;
      throw new AttributionError(
        'UNSUPPORTED_MODEL',
        `${describeNode(reader)} reads input "${name}" itself, not only through the attributed tensor "${request.inputName}": ` +
          `the part of the model after that tensor must depend on "${name}" through it alone (or through its shape)`,
      );
    }
    const value = facts.constants.get(name);
    if (value === undefined) throw new Error(`unreachable: value "${name}" is neither produced nor known`);
    initializers.push(writeTensorProto(name, value));
  }
  initializers.push(...emitter.initializers);
  for (const name of request.feedShapes?.keys() ?? []) if (read.has(name)) inputs.push(valueInfo(name, facts.types.get(name)!));

  const built = create(ModelProtoSchema, {
    irVersion: model.irVersion,
    opsetImport: model.opsetImport,
    producerName: 'saliency',
    graph: create(GraphProtoSchema, {
      name: `${graph.name || 'model'}_gradient`,
      node: keptNodes,
      initializer: initializers,
      input: inputs,
      output: outputs,
    }),
  });
  const what = request.result === 'none' ? `the forward model of ${description}` : `the ${request.result} model of ${description}`;
  checkRunsOn(executionProvider, built.graph!, opset, what);
  if (request.precision === 'float16') lowerToFloat16(built, momentsFrom === undefined ? {} : { float32From: [momentsFrom] });
  const computed = [request.inputName, ...forward.flatMap((index) => graph.node[index]!.output)];
  const activationBytes = plannedActivationBytes(computed, facts.types, request.result !== 'none');
  return {
    model: built,
    logitsShape: explained,
    description,
    activationBytes,
    ...(shapeOfCotangent === undefined ? {} : { cotangentShape: shapeOfCotangent }),
    ...(layer === undefined ? {} : { layer }),
  };
}

/**
 * The shape of the cotangent input for logits of shape `explained` [rows, K]:
 * `[G, 1, K]` for a moments graph of `groupCotangent`, otherwise `[rows, K]`.
 */
export function cotangentShape(
  request: Pick<GradientModelRequest, 'result' | 'groupSize' | 'groupCotangent'>,
  explained: readonly number[],
): number[] {
  const [rows, classes] = explained as [number, number];
  if (request.result !== 'moments' || request.groupCotangent !== true) return [rows, classes];
  return [rows / (request.groupSize ?? rows), 1, classes];
}

/**
 * The cotangent input `[G, 1, K]` as the rows `[G·N, K]` of `explained`: each
 * group's row repeated N times, by Expand, or where the provider lacks it
 * (WebGL) by a Mul with ones (exact), its input the graph input itself, not a
 * view (`elementwiseOfView`).
 */
function groupRows(emitter: GraphEmitter, shape: readonly number[], explained: readonly number[]): string {
  const [groups, , classes] = shape as [number, number, number];
  const grouped = [groups, explained[0]! / groups, classes];
  const repeated = supports(emitter.executionProvider, 'expand')
    ? emitter.node('Expand', [COTANGENT_INPUT, emitter.literal(grouped, [3], DataType.INT64)], 1)[0]!
    : emitter.node(
        'Mul',
        [COTANGENT_INPUT, emitter.literal(new Float32Array(grouped[1]! * classes).fill(1), [1, grouped[1]!, classes])],
        1,
      )[0]!;
  const rows = emitter.reshape(repeated, explained);
  emitter.setType(COTANGENT_INPUT, { dataType: DataType.FLOAT, shape: [...shape] });
  emitter.setType(repeated, { dataType: DataType.FLOAT, shape: grouped });
  emitter.setType(rows, { dataType: DataType.FLOAT, shape: [...explained] });
  return rows;
}

/**
 * The nodes that some graph output needs, in order: a forward node whose
 * value nothing reads (the logits of a moments graph, where their gradient
 * rule does not read them) is not run.
 */
function neededNodes(nodes: readonly NodeProto[], outputs: ReadonlySet<string>): NodeProto[] {
  const needed = new Set(outputs);
  const kept: NodeProto[] = [];
  for (const node of [...nodes].reverse()) {
    if (!node.output.some((name) => needed.has(name))) continue;
    for (const name of node.input) needed.add(name);
    kept.push(node);
  }
  return kept.reverse();
}

/**
 * The [B, K] the output is explained as: [B, K] itself, [B, K, 1, …] with its
 * trailing unit axes squeezed (a 1×1 convolution head), and one score [B] as
 * [B, 1]; undefined for any other shape.
 */
function explainedShape(shape: readonly number[], rows: number): number[] | undefined {
  if (shape[0] !== rows) return undefined;
  if (shape.length === 1) return [rows, 1];
  if (shape.length >= 2 && shape.slice(2).every((d) => d === 1)) return [rows, shape[1]!];
  return undefined;
}

/**
 * The graph with the head that selects `request.outputPosition` from the
 * logits `head` appended (`model/output-position.ts`), checked first against
 * their shape at this call; the head's types and constants join `facts`.
 */
function withOutputPosition(
  graph: GraphProto,
  head: { logits: string; description: string },
  headType: TensorType,
  request: GradientModelRequest,
  facts: GraphFacts,
  opset: number,
): { graph: GraphProto; logits: string; description: string } {
  const position = checkOutputPosition(request.outputPosition, head.description, headType.shape.slice(1));
  const selection = outputPositionHead(position, head.logits, headType.shape, headType.dataType, opset);
  const selected = inferGraph(selection.graph, opset, new Map([[head.logits, headType.shape]]), request.budgets);
  for (const [name, type] of selected.types) facts.types.set(name, type);
  for (const [name, value] of selected.constants) facts.constants.set(name, value);
  return {
    graph: {
      ...graph,
      node: [...graph.node, ...selection.graph.node],
      initializer: [...graph.initializer, ...selection.graph.initializer],
    },
    logits: selection.output,
    description: `${head.description} at position ${describeOutputPosition(position)}`,
  };
}

function logitsOf(request: GradientModelRequest, nodes: readonly NodeProto[], producers: ReadonlyMap<string, number>) {
  const output = request.outputName;
  if (request.keepSoftmax) return { logits: output, description: `output "${output}"` };
  let name = output;
  for (;;) {
    const index = producers.get(name);
    const node = index === undefined ? undefined : nodes[index];
    if (node === undefined) break;
    if (PASS_THROUGH.has(node.opType)) {
      name = node.input[0]!;
      continue;
    }
    if (PROBABILITY_HEADS.has(node.opType)) {
      return { logits: node.input[0]!, description: `output "${output}" without its final ${describeNode(node, index)}` };
    }
    break;
  }
  return { logits: output, description: `output "${output}"` };
}

/** What the reverse pass reads, and extends, while it builds one gradient graph. */
interface BuildState {
  /** The model's nodes, by index. */
  readonly nodes: readonly NodeProto[];
  /** Indices of the forward nodes the logits need, in order. */
  readonly forward: readonly number[];
  /** Those nodes as they will be emitted: a rule may ask one for another output (`forwardOutput`). */
  readonly forwardNodes: Map<number, NodeProto>;
  /** Values that depend on the model input and are floats, so carry a gradient. */
  readonly fromInput: ReadonlySet<string>;
  readonly facts: GraphFacts;
  readonly opset: number;
  readonly emitter: GraphEmitter;
  /** The rules of a modified backward pass, by op type, used instead of those of ops/. */
  readonly overrides: ReadonlyMap<string, GradientRule>;
}

/**
 * Reverse-mode accumulation over the forward nodes from `cotangent` (the
 * logits' cotangent, [rows, K]); returns the name of the cotangent of `wrt`
 * (the model input, or a tensor produced by node `producer`, whose cotangent
 * is complete once every later node is done).
 */
function backpropagate(state: BuildState, cotangent: string, logits: string, wrt: string, producer?: number): string {
  const { nodes, forward, forwardNodes, fromInput, facts, emitter } = state;
  // The cotangent comes in as float32; a model computing in another float type gets it cast once.
  const logitsType = facts.types.get(logits)!;
  const explained = explainedShape(logitsType.shape, logitsType.shape[0]!)!;
  const cast =
    logitsType.dataType === DataType.FLOAT ? cotangent : emitter.node('Cast', [cotangent], 1, { to: { int: logitsType.dataType } })[0]!;
  if (cotangent === COTANGENT_INPUT) facts.types.set(COTANGENT_INPUT, { dataType: DataType.FLOAT, shape: explained });
  facts.types.set(cast, { dataType: logitsType.dataType, shape: explained });
  const seed = emitter.reshape(cast, logitsType.shape, explained);
  facts.types.set(seed, logitsType);
  const contributions = new Map<string, string[]>([[logits, [seed]]]);
  const total = (name: string): string | undefined => {
    const parts = contributions.get(name);
    if (parts === undefined || parts.length === 0) return undefined;
    if (parts.length > 1) {
      // A chain of Add, not one Sum: onnxruntime-web's WebGPU EPs have no Sum
      // kernel and would run it on the CPU, copying every contribution (a
      // residual block's activation gradient) off the GPU and back.
      const type = facts.types.get(name)!;
      const sum = parts.slice(1).reduce((acc, part) => {
        const added = emitter.node('Add', [acc, part], 1)[0]!;
        emitter.setType(added, type);
        return added;
      }, parts[0]!);
      contributions.set(name, [sum]);
    }
    return contributions.get(name)![0];
  };

  const onPath = forward.filter((index) => nodes[index]!.output.some((name) => fromInput.has(name)));
  const missing = onPath.filter(
    (index) => OPS.get(nodes[index]!.opType)!.gradient === 'none' && nodes[index]!.output.some((n) => fromInput.has(n)),
  );
  if (missing.length > 0) {
    const index = missing[0]!;
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `${describeNode(nodes[index]!, index)} carries the input's gradient but its op has no gradient rule`,
    );
  }
  for (const index of [...onPath].reverse()) {
    if (producer !== undefined && index <= producer) break;
    const node = forwardNodes.get(index)!;
    const dys = node.output.map((name) => (name === '' ? undefined : total(name)));
    if (dys.every((d) => d === undefined)) continue;
    const rule = state.overrides.get(node.opType) ?? OPS.get(node.opType)!.gradient;
    if (rule === 'none') continue;
    const ctx = gradientContext(state, node, index, dys);
    const grads = rule(ctx);
    node.input.forEach((name, i) => {
      if (!ctx.needsGradient(i)) return;
      const grad = grads[i];
      if (grad === undefined) return;
      const list = contributions.get(name) ?? [];
      list.push(grad);
      contributions.set(name, list);
    });
  }
  // Every path may be piecewise constant (Floor, Round, a cast through integers): the gradient is then 0.
  const wrtType = facts.types.get(wrt)!;
  return total(wrt) ?? emitter.literal(new Float32Array(sizeOf(wrtType.shape)), wrtType.shape, wrtType.dataType);
}

/** What the rule of forward node `index` (`original`, as the model has it) sees, with `dys` its outputs' cotangents. */
function gradientContext(state: BuildState, original: NodeProto, index: number, dys: ReadonlyArray<string | undefined>): GradientContext {
  const { forwardNodes, fromInput, facts, emitter } = state;
  const base = nodeContext(original, facts, state.opset, index);
  return {
    ...base,
    output: (i) => {
      const name = forwardNodes.get(index)!.output[i];
      const type = name === undefined || name === '' ? undefined : facts.types.get(name);
      if (type === undefined) base.fail(`output ${i} has no known type`);
      return type!;
    },
    inputName: (i) => original.input[i] ?? base.fail(`has no input ${i}`),
    outputName: (i) => original.output[i] ?? base.fail(`has no output ${i}`),
    forwardOutput: (i) => {
      const current = forwardNodes.get(index)!;
      const existing = current.output[i];
      if (existing !== undefined && existing !== '') return existing;
      const extended = clone(NodeProtoSchema, current);
      while (extended.output.length <= i) extended.output.push('');
      const name = emitter.freshName('forward');
      extended.output[i] = name;
      forwardNodes.set(index, extended);
      return name;
    },
    dy: (i) => dys[i],
    needsGradient: (i) => {
      const name = original.input[i];
      return name !== undefined && name !== '' && fromInput.has(name);
    },
    op: (opType, inputs, attributes) => emitter.node(opType, inputs, 1, attributes)[0]!,
    ops: (opType, inputs, outputs, attributes) => emitter.node(opType, inputs, outputs, attributes),
    literal: (values, dims, dataType) => emitter.literal(values, dims, dataType),
    unbroadcast: (gradient, from, to) => emitter.unbroadcast(gradient, from, to),
    reduce: (opType, input, shape, axes, keepdims) => emitter.reduce(opType, input, shape, axes, keepdims),
    executionProvider: emitter.executionProvider,
    supports: (capability) => supports(emitter.executionProvider, capability),
    reshape: (input, shape, from) => emitter.reshape(input, shape, from),
  };
}

/**
 * A forward node in a form the execution provider runs: a Gemm without C gets
 * a zero C where the provider fails without one (WebGL). Other forms it lacks
 * are refused by the provider's check, naming the node.
 */
function legalizeForward(node: NodeProto, emitter: GraphEmitter): NodeProto {
  if (node.opType !== 'Gemm' || (node.input[2] ?? '') !== '' || supports(emitter.executionProvider, 'gemmWithoutC')) return node;
  const withC = clone(NodeProtoSchema, node);
  withC.input = [node.input[0]!, node.input[1]!, emitter.literal([0], [1])];
  return withC;
}

/**
 * The graph outputs copied by ops the execution provider keeps: where it
 * lacks `identityOfReadOutput` (WebGL), an Identity into a graph output whose
 * input other nodes also read becomes a Mul by one (exact in floating point),
 * a node the EP's graph clean-up leaves, so the output stays a value no node
 * consumes, which the EP numbers right. Other Identities stay (no extra kernel).
 */
function copyOutputsKept(nodes: NodeProto[], outputs: ReadonlySet<string>, emitter: GraphEmitter, facts: GraphFacts): NodeProto[] {
  if (supports(emitter.executionProvider, 'identityOfReadOutput')) return nodes;
  const reads = new Map<string, number>();
  for (const node of nodes) for (const name of node.input) reads.set(name, (reads.get(name) ?? 0) + 1);
  return nodes.map((node) => {
    const [input] = node.input;
    if (node.opType !== 'Identity' || !outputs.has(node.output[0] ?? '') || input === undefined || reads.get(input)! < 2) return node;
    const one = emitter.literal([1], [1], facts.types.get(input)!.dataType);
    return create(NodeProtoSchema, { opType: 'Mul', name: node.name, input: [input, one], output: node.output });
  });
}

function valueInfo(name: string, type: TensorType): ValueInfoProto {
  return tensorValueInfo(name, type.shape, type.dataType);
}

/**
 * The forward nodes `logits` needs (indices in graph order), less those
 * folded to constants, and the values among their outputs computed from
 * graph input `inputName` that are floats, so carry a gradient.
 */
export function forwardFromInput(
  graph: GraphProto,
  facts: GraphFacts,
  producers: ReadonlyMap<string, number>,
  logits: string,
  inputName: string,
): { forward: number[]; fromInput: Set<string> } {
  // The forward nodes the logits need, less those folded to constants.
  const needed = new Set<number>();
  const visit = (name: string) => {
    const index = producers.get(name);
    if (index === undefined || needed.has(index) || facts.constants.has(name)) return;
    needed.add(index);
    for (const input of graph.node[index]!.input) if (input !== '') visit(input);
  };
  visit(logits);
  const forward = [...needed].sort((a, b) => a - b);

  // Values that depend on the model input (and are floats, so carry a gradient).
  const fromInput = new Set<string>([inputName]);
  for (const index of forward) {
    const node = graph.node[index]!;
    if (node.input.some((name) => fromInput.has(name))) {
      for (const name of node.output) {
        if (name !== '' && !facts.constants.has(name) && isFloatType(facts.types.get(name)!.dataType)) fromInput.add(name);
      }
    }
  }
  return { forward, fromInput };
}
