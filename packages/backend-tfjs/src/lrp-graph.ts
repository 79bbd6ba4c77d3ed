import * as tf from '@tensorflow/tfjs-core';
import { AttributionError, type LrpRuleSet } from '@saliency/core';
import { describeNode, nodeNameOf, type GraphNodeLike } from './graph-nodes.js';
import { convLayer, denseLayer, DILATED, foldBatchNorm, type LinearLayer, type Padding } from './lrp-layer.js';
import { activate } from './lrp-model.js';
import { relevanceLayer } from './lrp-rules.js';
import { asTensor } from './model-run.js';
import type { GraphModelLike, ModelFunction } from './model-types.js';

/*
 * LRP on a GraphModel (docs/methods.md, "LRP"). The graph is read once into a
 * plan: its weighted ops — Conv2D, DepthwiseConv2dNative, MatMul and the
 * converter's fused forms, each with the BiasAdd (fused or the one node that
 * alone reads it) and, after a convolution, the FusedBatchNorm folded in —
 * become linear layers, and a Relu6 (a node, or fused) passes relevance as on
 * a LayersModel (`clipPassingRelevance`); every other op on the way from the
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
 * its padding none, and a Mul by a constant (a batch normalization's scale
 * where the converter wrote it so) passes it: R(x) = x·a·c = R(y).
 */
const PROPORTIONAL = new Set(['Relu', 'MaxPool', 'AvgPool', 'Mean', 'Add', 'AddV2', 'BiasAdd', 'Pad', 'Mul']);
/** Activations fused into a weighted op that pass relevance (`activate`). */
const FUSED_ACTIVATIONS = new Set(['relu', 'relu6']);
/** Ops that pass relevance by a gradient of their own, run here rather than by the graph: the op and its `activate` name. */
const BOUNDED: Readonly<Record<string, string>> = { Relu6: 'relu6' };
const RULES_TEXT =
  `it propagates relevance through ${LINEAR_OPS.join(', ')} (fused with BiasAdd, and Relu or Relu6), ${Object.keys(BOUNDED).join(', ')}, ` +
  `${[...PROPORTIONAL].filter((op) => op !== 'Mul').join(', ')}, Mul by a constant, ${[...THROUGH].join(', ')}, ` +
  'and FusedBatchNorm after a convolution that it alone reads';

/** One weighted op with what is folded into it. */
interface LayerPlan {
  readonly node: GraphNodeLike;
  /** The node whose value the layer gives: the op itself, or the BiasAdd or FusedBatchNorm folded in after it. */
  readonly output: string;
  /** The node of the layer's input x. */
  readonly source: string;
  readonly bias: string | undefined;
  readonly batchNorm: GraphNodeLike | undefined;
  /** The fused activation (`activate`'s name), if any. */
  readonly activation: string | undefined;
  /** It reads the model input through THROUGH ops only: a first-layer rule applies. */
  readonly first: boolean;
}

/** An activation node run as `activate(x, activation)`. */
interface ActivationPlan {
  readonly node: GraphNodeLike;
  readonly source: string;
  readonly activation: string;
}

/** What an LRP run of a GraphModel does, read from its graph before any tensor is made. */
export interface GraphLrpPlan {
  readonly input: string;
  readonly output: string;
  /** The nodes computed here, in graph order: each after those its input is computed from. */
  readonly steps: readonly (LayerPlan | ActivationPlan)[];
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
  weights: { readonly [name: string]: unknown },
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

  const steps: (LayerPlan | ActivationPlan)[] = [];
  const folded = new Set<string>();
  const reached = new Set([input]);
  for (const node of order) {
    if (!dependent.has(node.name) || node.name === input || folded.has(node.name)) continue;
    const inputs = dataInputs(node);
    const readsInput = inputs.some((i) => reached.has(i.name));
    const linear = CONVOLUTIONS.has(node.op) || DEPTHWISE.has(node.op) || MATMULS.has(node.op);
    if (linear) {
      const { absorbed, ...layer } = planLayer(node, inputs, isConstant, soleReader);
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
    if (BOUNDED[node.op] !== undefined) {
      steps.push({ node, source: inputs[0]!.name, activation: BOUNDED[node.op]! });
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
  return { node, output, source: x!.name, bias, batchNorm, activation, absorbed };
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
      if (!('output' in step)) {
        dict[step.node.name] = activate(computed(step.source), step.activation);
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
