import * as tf from '@tensorflow/tfjs-core';
import { AttributionError, type LrpRuleSet } from '@saliency/core';
import { describeNode, nodeNameOf, type GraphNodeLike } from './graph-nodes.js';
import { clipPassingRelevance } from './lrp-bounded.js';
import { convLayer, denseLayer, DILATED, foldAffine, foldBatchNorm, type LinearLayer, type Padding } from './lrp-layer.js';
import { activate } from './lrp-model.js';
import { relevanceLayer } from './lrp-rules.js';
import { asTensor } from './model-run.js';
import type { GraphModelLike, ModelFunction } from './model-types.js';

/*
 * LRP on a GraphModel (docs/methods.md, "LRP"). The graph is read once into a
 * plan: its weighted ops — Conv2D, DepthwiseConv2dNative, MatMul and the
 * converter's fused forms, each with the BiasAdd (fused or the one node that
 * alone reads it) and a batch norm after it (a FusedBatchNorm after a
 * convolution, or a Mul and Add by constants) folded in — become linear
 * layers, and a clip to constant bounds (Relu6, fused or a node, ClipByValue,
 * a Minimum–Maximum pair) passes relevance as a ReLU6 on a LayersModel does
 * (`clipPassingRelevance`); every other op on the way from the
 * input to the logits must be one whose ordinary gradient is its LRP rule. A
 * run gives each linear layer's output as a TF.js custom gradient whose
 * backward step is the layer's rule (`lrp-rules.ts`, shared with the
 * LayersModel path), and lets the GraphModel execute the ops between them,
 * with those outputs in its dict in place of what the graph would compute
 * there.
 */

const CONVOLUTIONS = new Set(['Conv2D', '_FusedConv2D']);
const DEPTHWISE = new Set(['DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative']);
const MATMULS = new Set(['MatMul', '_FusedMatMul']);
const FUSED = new Set(['_FusedConv2D', 'FusedDepthwiseConv2dNative', '_FusedMatMul']);
const BATCH_NORMS = new Set(['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3']);
/** The weighted ops, for messages. */
const LINEAR_OPS = [...CONVOLUTIONS, ...DEPTHWISE, ...MATMULS];
/** Ops whose values pass unchanged: the first layers' rules see the input through them. */
const THROUGH = new Set(['Identity', 'Snapshot', 'Reshape', 'Squeeze', 'ExpandDims']);
/**
 * Ops whose ordinary gradient is their LRP rule: Relu passes relevance,
 * MaxPool gives it to the winner, AvgPool, Mean and Add split it in
 * proportion to the contributions (a constant's share absorbed), Pad gives
 * its padding none, and a Mul by a constant not folded into a layer (a batch
 * normalization after a ReLU, as the converter writes it) passes it:
 * R(x) = x·a·c = R(y).
 */
const PROPORTIONAL = new Set(['Relu', 'MaxPool', 'AvgPool', 'Mean', 'Add', 'AddV2', 'BiasAdd', 'Pad', 'Mul']);
/** Activations fused into a weighted op that pass relevance (`activate`). */
const FUSED_ACTIVATIONS = new Set(['relu', 'relu6']);
const RULES_TEXT =
  `it propagates relevance through ${LINEAR_OPS.join(', ')} (fused with BiasAdd, and Relu or Relu6), ` +
  'Relu6, ClipByValue and Minimum–Maximum pairs with constant bounds, ' +
  `${[...PROPORTIONAL].filter((op) => op !== 'Mul').join(', ')}, Mul by a constant, ${[...THROUGH].join(', ')}, ` +
  'and FusedBatchNorm (or Mul and Add by constants) after a convolution or MatMul that it alone reads';

/** One weighted op with what is folded into it. */
interface LayerPlan {
  readonly node: GraphNodeLike;
  /** The node whose value the layer gives: the op itself, or the last node folded in after it. */
  readonly output: string;
  /** The node of the layer's input x. */
  readonly source: string;
  readonly bias: string | undefined;
  readonly batchNorm: GraphNodeLike | undefined;
  /** z·a + c after it (a batch norm as Mul and Add), folded in: the constants' nodes. */
  readonly scale: string | undefined;
  readonly offset: string | undefined;
  /** The fused activation (`activate`'s name), if any. */
  readonly activation: string | undefined;
  /** It reads the model input through THROUGH ops only: a first-layer rule applies. */
  readonly first: boolean;
}

/**
 * A clip to constant bounds — Relu6, ClipByValue, a Minimum and Maximum pair
 * — run as `clipPassingRelevance`, which passes relevance as a ReLU6 layer
 * does on a LayersModel; `output` is the node whose value it gives.
 */
interface ClipPlan {
  readonly output: string;
  readonly source: string;
  readonly bounds: readonly [number, number];
}

/** What an LRP run of a GraphModel does, read from its graph before any tensor is made. */
export interface GraphLrpPlan {
  readonly input: string;
  readonly output: string;
  /** The nodes computed here, in graph order: each after those its input is computed from. */
  readonly steps: readonly (LayerPlan | ClipPlan)[];
}

const refuse = (node: GraphNodeLike, why: string): never => {
  throw new AttributionError('UNSUPPORTED_MODEL', `${describeNode(node)}: ${why} (docs/methods.md, "LRP")`);
};

const attr = (node: GraphNodeLike, name: string): unknown => node.attrParams?.[name]?.value;

/** The data inputs of a node (a converter graph may list control inputs, "^name", too). */
const dataInputs = (node: GraphNodeLike): { name: string; node: GraphNodeLike }[] =>
  node.inputNames.flatMap((name, i) =>
    name.startsWith('^') || node.inputs[i] === undefined ? [] : [{ name: nodeNameOf(name), node: node.inputs[i]! }],
  );

/**
 * The plan of LRP from the graph's node `input` to its node `output`, with
 * `inputRuleFirst` when the rule set's first-layer rule gives relevance
 * itself (w², flat, zB). Refuses, naming the node, every op without a rule.
 */
export function planGraphLrp(
  nodes: Readonly<Record<string, GraphNodeLike>>,
  weights: { readonly [name: string]: readonly tf.Tensor[] },
  input: string,
  output: string,
  inputRuleFirst: boolean,
): GraphLrpPlan {
  const target = nodes[output];
  if (target === undefined) throw new AttributionError('UNSUPPORTED_MODEL', `LRP: the GraphModel has no node "${output}"`);
  // Graph order of what the output is computed from, and which of it depends on the input.
  const order: GraphNodeLike[] = [];
  const seen = new Set<string>();
  const visit = (node: GraphNodeLike): void => {
    if (seen.has(node.name)) return;
    seen.add(node.name);
    for (const i of dataInputs(node)) visit(i.node);
    order.push(node);
  };
  visit(target);
  const dependent = new Set<string>();
  for (const node of order) if (node.name === input || dataInputs(node).some((i) => dependent.has(i.name))) dependent.add(node.name);
  if (!dependent.has(output))
    throw new AttributionError('UNSUPPORTED_MODEL', `LRP: the GraphModel's node "${output}" does not depend on "${input}"`);
  const readers = new Map<string, GraphNodeLike[]>();
  for (const node of order) {
    if (!dependent.has(node.name)) continue;
    for (const i of dataInputs(node)) readers.set(i.name, [...(readers.get(i.name) ?? []), node]);
  }
  /** The one node that reads `name`, if only one does and `name` is not the output. */
  const soleReader = (name: string) => {
    const found = readers.get(name);
    return name !== output && found?.length === 1 ? found[0] : undefined;
  };
  const isConstant = (name: string) => !dependent.has(name) && weights[name] !== undefined;

  const steps: (LayerPlan | ClipPlan)[] = [];
  const folded = new Set<string>();
  const reached = new Set([input]);
  for (const node of order) {
    if (!dependent.has(node.name) || node.name === input || folded.has(node.name)) continue;
    const inputs = dataInputs(node);
    const readsInput = inputs.some((i) => reached.has(i.name));
    const linear = CONVOLUTIONS.has(node.op) || DEPTHWISE.has(node.op) || MATMULS.has(node.op);
    if (linear) {
      const { absorbed, ...layer } = planLayer(node, inputs, isConstant, soleReader, (name) => weights[name]![0]!);
      for (const name of absorbed) folded.add(name);
      steps.push({ ...layer, first: readsInput });
      continue;
    }
    if (readsInput && THROUGH.has(node.op)) {
      reached.add(node.name);
      continue;
    }
    if (readsInput && inputRuleFirst) {
      refuse(
        node,
        `it reads the model input before any ${LINEAR_OPS.join(', ')}; the first-layer rules w², flat and zB need the input ` +
          `to reach those ops through ${[...THROUGH].join(', ')} only`,
      );
    }
    if (BATCH_NORMS.has(node.op)) {
      refuse(
        node,
        `LRP folds a FusedBatchNorm into the convolution before it, but its input "${inputs[0]?.name}" is not the output of a ` +
          `${[...CONVOLUTIONS, ...DEPTHWISE].join(', ')} without activation (and its BiasAdd) that only it reads`,
      );
    }
    const clip = clipOf(node, inputs, dependent, weights, soleReader);
    if (clip !== undefined) {
      if (clip.output !== node.name) folded.add(clip.output);
      steps.push(clip);
      continue;
    }
    if (node.op === 'Mul' && inputs.filter((i) => dependent.has(i.name)).length !== 1) {
      refuse(node, `LRP has no rule for a Mul of two values computed from the input; ${RULES_TEXT}`);
    }
    if (!THROUGH.has(node.op) && !PROPORTIONAL.has(node.op)) refuse(node, `LRP has no rule for ${node.op}; ${RULES_TEXT}`);
  }
  return { input, output, steps };
}

/** A weighted op with its bias and batch norm: the fused ones' own, or the nodes that alone read its value. */
function planLayer(
  node: GraphNodeLike,
  inputs: { name: string; node: GraphNodeLike }[],
  isConstant: (name: string) => boolean,
  soleReader: (name: string) => GraphNodeLike | undefined,
  constant: (name: string) => tf.Tensor,
): Omit<LayerPlan, 'first'> & { absorbed: string[] } {
  const [x, kernel] = inputs;
  if (x === undefined || kernel === undefined || !isConstant(kernel.name)) {
    refuse(node, `LRP needs its ${MATMULS.has(node.op) ? 'second operand' : 'filter'} to be a constant of the graph`);
  }
  const conv = !MATMULS.has(node.op);
  if (conv) {
    const format = String(attr(node, 'dataFormat') ?? 'NHWC').toUpperCase();
    if (format !== 'NHWC') refuse(node, `LRP takes channels-last (NHWC) convolutions, not ${format}`);
    const dilations = (attr(node, 'dilations') as number[] | undefined) ?? [1, 1, 1, 1];
    if (dilations.some((d) => d !== 1)) refuse(node, DILATED);
  } else if (attr(node, 'transposeA') === true) {
    refuse(node, 'LRP takes a MatMul of [batch, features] by a constant, not with its first operand transposed');
  }
  let bias: string | undefined;
  let activation: string | undefined;
  let output = node.name;
  /** The nodes after the op that the layer computes: a BiasAdd, a FusedBatchNorm. */
  const absorbed: string[] = [];
  if (FUSED.has(node.op)) {
    const [extra, fused, ...more] = ((attr(node, 'fusedOps') as string[] | undefined) ?? []).map((op) => op.toLowerCase());
    if (extra !== 'biasadd' || more.length > 0 || (fused !== undefined && !FUSED_ACTIVATIONS.has(fused))) {
      refuse(node, `LRP has no rule for the fused ops ${JSON.stringify(attr(node, 'fusedOps'))}; ${RULES_TEXT}`);
    }
    const biasInput = inputs[2];
    if (biasInput === undefined || !isConstant(biasInput.name)) refuse(node, 'LRP needs its fused bias to be a constant of the graph');
    bias = biasInput!.name;
    activation = fused;
  } else {
    const next = soleReader(node.name);
    const nextInputs = next === undefined ? [] : dataInputs(next);
    if (next?.op === 'BiasAdd' && nextInputs[0]?.name === node.name && nextInputs[1] !== undefined && isConstant(nextInputs[1].name)) {
      bias = nextInputs[1].name;
      output = next.name;
      absorbed.push(output);
    }
  }
  let batchNorm: GraphNodeLike | undefined;
  const next = activation !== undefined || !conv ? undefined : soleReader(output);
  if (next !== undefined && BATCH_NORMS.has(next.op)) {
    const [value, ...parameters] = dataInputs(next);
    if (value?.name === output && parameters.length === 4 && parameters.every((p) => isConstant(p.name))) {
      batchNorm = next;
      output = next.name;
      absorbed.push(output);
    }
  }
  // A Mul and then an Add of constants, one per output channel or one for all, that alone read the layer.
  const channels = constant(kernel!.name)
    .shape.slice(DEPTHWISE.has(node.op) ? 2 : -1)
    .reduce((p, d) => p * d, 1);
  const affine = (ops: readonly string[]) => {
    const after = activation === undefined && batchNorm === undefined ? soleReader(output) : undefined;
    const operands = after === undefined || !ops.includes(after.op) ? [] : dataInputs(after);
    const value = operands.findIndex((i) => i.name === output);
    const other = operands[1 - value];
    if (operands.length !== 2 || value < 0 || other === undefined || !isConstant(other.name)) return undefined;
    const shape = constant(other.name).shape;
    if (shape.length > 1 || (shape.length === 1 && shape[0] !== channels)) return undefined;
    output = after!.name;
    absorbed.push(output);
    return other.name;
  };
  const scale = affine(['Mul']);
  const offset = affine(['Add', 'AddV2', 'BiasAdd']);
  return { node, output, source: x!.name, bias, batchNorm, scale, offset, activation, absorbed };
}

/**
 * The logits of a GraphModel with LRP's rules (`set`) as its weighted ops'
 * gradients, run as `plan` says.
 */
export function graphLrpLogits(model: GraphModelLike, plan: GraphLrpPlan, set: LrpRuleSet): ModelFunction {
  const weights = model.weights ?? {};
  const constant = (name: string): tf.Tensor => weights[name]![0]!;
  return (x) => {
    const dict: Record<string, tf.Tensor> = { [plan.input]: x };
    const computed = (name: string): tf.Tensor => (dict[name] ??= asTensor(model.execute(dict, name), 'GraphModel'));
    for (const step of plan.steps) {
      if ('bounds' in step) {
        dict[step.output] = clipPassingRelevance(computed(step.source), step.bounds[0], step.bounds[1]);
        continue;
      }
      const rule = step.first ? set.first : MATMULS.has(step.node.op) ? set.dense : set.conv;
      dict[step.output] = activate(relevanceLayer(linearLayerOf(step, constant), rule)(computed(step.source)), step.activation ?? 'linear');
    }
    return computed(plan.output);
  };
}

/** The linear layer a plan entry describes, its batch norm folded in (on copies: the graph's constants are never changed). */
function linearLayerOf(layer: LayerPlan, constant: (name: string) => tf.Tensor): LinearLayer {
  const { node } = layer;
  const kernel = constant(dataInputs(node)[1]!.name);
  let bias = layer.bias === undefined ? undefined : constant(layer.bias);
  if (MATMULS.has(node.op)) return denseLayer(attr(node, 'transposeB') === true ? tf.transpose(kernel) : kernel, bias);
  const depthwise = DEPTHWISE.has(node.op);
  let weight = kernel;
  if (layer.batchNorm !== undefined) {
    const [scale, offset, mean, variance] = dataInputs(layer.batchNorm)
      .slice(1)
      .map((p) => constant(p.name)) as tf.Tensor[];
    const epsilon = Number(attr(layer.batchNorm, 'epsilon') ?? 1e-3);
    ({ weight, shift: bias } = foldBatchNorm({ scale, offset, mean: mean!, variance: variance!, epsilon }, kernel, bias, depthwise));
  }
  if (layer.scale !== undefined || layer.offset !== undefined) {
    const factor = layer.scale === undefined ? tf.scalar(1) : constant(layer.scale);
    const offset = layer.offset === undefined ? undefined : constant(layer.offset);
    ({ weight, shift: bias } = foldAffine(weight, bias, factor, offset, depthwise));
  }
  const strides = (attr(node, 'strides') as number[] | undefined) ?? [1, 1, 1, 1];
  return convLayer(weight, bias, { strides: [strides[1]!, strides[2]!], pad: padding(node), depthwise });
}

/** A convolution's padding: `same`, `valid`, or explicit from its `explicit_paddings` [top, bottom] pairs per axis. */
function padding(node: GraphNodeLike): Padding {
  const pad = String(attr(node, 'pad') ?? 'valid').toLowerCase();
  if (pad !== 'explicit') return pad as 'same' | 'valid';
  const flat = (attr(node, 'explicitPaddings') as number[] | undefined) ?? [];
  return [0, 1, 2, 3].map((axis) => [flat[2 * axis] ?? 0, flat[2 * axis + 1] ?? 0]) as tf.backend_util.ExplicitPadding;
}

/**
 * The clip `node` starts, if it is one: Relu6, ClipByValue with constant
 * bounds, or a Minimum (Maximum) by a constant whose one reader is a Maximum
 * (Minimum) by a constant, as converters write ReLU6 and clip_by_value.
 */
function clipOf(
  node: GraphNodeLike,
  inputs: { name: string; node: GraphNodeLike }[],
  dependent: ReadonlySet<string>,
  weights: { readonly [name: string]: readonly tf.Tensor[] },
  soleReader: (name: string) => GraphNodeLike | undefined,
): ClipPlan | undefined {
  /** The value of a scalar constant of the graph. */
  const scalar = (name: string | undefined) => {
    const value = name === undefined || dependent.has(name) ? undefined : weights[name]?.[0];
    return value?.size === 1 ? value.dataSync()[0]! : undefined;
  };
  if (node.op === 'Relu6') return { output: node.name, source: inputs[0]!.name, bounds: [0, 6] };
  if (node.op === 'ClipByValue') {
    const [lo, hi] = [scalar(inputs[1]?.name), scalar(inputs[2]?.name)];
    return lo === undefined || hi === undefined ? undefined : { output: node.name, source: inputs[0]!.name, bounds: [lo, hi] };
  }
  /** The value operand and the bound of a Minimum or Maximum by a scalar constant. */
  const operands = (n: GraphNodeLike) => {
    const pair = dataInputs(n);
    const value = pair.find((i) => dependent.has(i.name));
    const bound = scalar(pair.find((i) => i !== value)?.name);
    return pair.length === 2 && value !== undefined && bound !== undefined ? { value: value.name, bound } : undefined;
  };
  const pairs: Record<string, string> = { Minimum: 'Maximum', Maximum: 'Minimum' };
  const first = pairs[node.op] === undefined ? undefined : operands(node);
  const next = first === undefined ? undefined : soleReader(node.name);
  const second = next !== undefined && next.op === pairs[node.op] ? operands(next) : undefined;
  if (first === undefined || second === undefined || second.value !== node.name) return undefined;
  const [lo, hi] = node.op === 'Maximum' ? [first.bound, second.bound] : [second.bound, first.bound];
  return lo <= hi ? { output: next!.name, source: first.value, bounds: [lo, hi] } : undefined;
}
