import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import { DataType, dataTypeName } from '../model/data-type.js';
import type { GradientContext, GradientRule, NodeContext, OpDefinition, TensorType } from './op-definition.js';
import { broadcastIndex, broadcastShapes, groupsOf, normalizeAxis, sameShape } from './tensor-math.js';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** A value computed on first use, so that a rule emits only what the needed cotangents use. */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

/** Applies `fn` to each group of the reduction over `axes`, writing its results back in place. */
function mapGroups(x: ConstTensor, axes: readonly number[], fn: (group: number[], k: number) => number[]): Float64Array {
  const { groups, index } = groupsOf(x, axes);
  const results = groups.map(fn);
  const cursor = new Int32Array(groups.length);
  return Float64Array.from(index, (group) => results[group]![cursor[group]!++]!);
}

/**
 * x̄ = σ⁻¹·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), the cotangent of x through x̂ = (x − μ)·σ⁻¹
 * for ĝ = ∂L/∂x̂, with the means over the normalized `axes`.
 */
function throughStandardization(g: GradientContext, gHat: string, xHat: string, invStd: string, axes: readonly number[]): string {
  // ĝ and x̂ have x's shape.
  const shape = g.input(0).shape;
  const meanG = g.reduce('ReduceMean', gHat, shape, axes, true);
  const meanGX = g.reduce('ReduceMean', g.op('Mul', [gHat, xHat]), shape, axes, true);
  const centered = g.op('Sub', [g.op('Sub', [gHat, meanG]), g.op('Mul', [xHat, meanGX])]);
  return g.op('Mul', [centered, invStd]);
}

/** Sums a [.., x-shaped] product down to a parameter's shape `to`, aligned to x's trailing axes as `aligned`. */
function paramGradient(
  g: GradientContext,
  value: string,
  xShape: readonly number[],
  aligned: readonly number[],
  to: readonly number[],
): string {
  return g.reshape(g.unbroadcast(value, xShape, aligned), to, aligned);
}

// ---------------------------------------------------------------------------------------------
// BatchNormalization (inference)

/**
 * A per-channel parameter's shape as it broadcasts against X [N, C, D1, …]: its
 * dims from axis 1, then ones (spatial = 0 of opsets 7–8 gives [C, D1, …]).
 */
function channelShape(param: readonly number[], rank: number): number[] {
  return [...param, ...new Array<number>(Math.max(0, rank - 1 - param.length)).fill(1)];
}

function batchNormChecks(ctx: NodeContext): { eps: number; aligned: number[][] } {
  if (ctx.attributes.int('training_mode', 0) !== 0) {
    ctx.fail(`training_mode=${ctx.attributes.int('training_mode', 0)} is not supported; only inference (training_mode=0) is`);
  }
  if (ctx.node.output.slice(1).some((name) => name !== '')) {
    ctx.fail('the running mean and variance outputs are training-mode outputs; only inference (one output, Y) is supported');
  }
  const x = ctx.input(0).shape;
  if (x.length < 2) ctx.fail(`X must have rank ≥ 2 ([N, C, …]), not [${x.join(', ')}]`);
  const aligned = [1, 2, 3, 4].map((i) => {
    const shape = channelShape(ctx.input(i).shape, x.length);
    if (!sameShape(broadcastShapes([1, ...shape], x) ?? [], x))
      ctx.fail(`input ${i} [${ctx.input(i).shape.join(', ')}] does not match X [${x.join(', ')}]`);
    return shape;
  });
  return { eps: ctx.attributes.float('epsilon', 1e-5), aligned };
}

function evaluateBatchNorm(ctx: NodeContext): ConstTensor[] | undefined {
  const values = [0, 1, 2, 3, 4].map((i) => ctx.constant(i));
  if (values.some((v) => v === undefined)) return undefined;
  const [x, scale, bias, mean, variance] = values as ConstTensor[];
  const { eps, aligned } = batchNormChecks(ctx);
  const idx = aligned.map((shape) => broadcastIndex(shape, x!.dims));
  const at = (t: ConstTensor, k: number, i: number) => t.values[idx[k]![i]!]!;
  const y = x!.values.map((v, i) => (at(scale!, 0, i) * (v - at(mean!, 2, i))) / Math.sqrt(at(variance!, 3, i) + eps) + at(bias!, 1, i));
  return [constTensor(x!.dataType, x!.dims, y)];
}

/**
 * BatchNormalization in inference mode, y = γ·(x − μ)·s + β with s = (σ² + ε)^(−½):
 * x̄ = ȳ·γ·s (one broadcasting Mul with a folded [C, 1, …] constant when γ and σ²
 * are constants); γ̄ = Σ ȳ·x̂ with x̂ = (x − μ)·s; β̄ = Σ ȳ; μ̄ = −Σ ȳ·γ·s;
 * σ̄² = −½·γ·s²·Σ ȳ·x̂ (sums over N and the spatial axes).
 */
const batchNormGradient: GradientRule = (g) => {
  const { eps, aligned } = batchNormChecks(g);
  const xShape = g.input(0).shape;
  const dtype = g.input(0).dataType;
  const dy = g.dy(0)!;
  const param = (i: number) => g.reshape(g.inputName(i), aligned[i - 1]!, g.input(i).shape);
  const invStd = once(() => {
    const variance = g.constant(4);
    if (variance !== undefined)
      return g.literal(
        variance.values.map((v) => 1 / Math.sqrt(v + eps)),
        aligned[3]!,
        dtype,
      );
    // 1 / √(var + ε) as a Div rather than Reciprocal, which the WebGL EP lacks (both round 1/x once).
    return g.op('Div', [g.literal([1], [], dtype), g.op('Sqrt', [g.op('Add', [param(4), g.literal([eps], [], dtype)])])]);
  });
  // γ·s: folded to one constant when γ and σ² are constants (the usual case).
  const slope = once(() => {
    const scale = g.constant(1);
    const variance = g.constant(4);
    if (scale === undefined || variance === undefined) return g.op('Mul', [param(1), invStd()]);
    const shape = broadcastShapes(aligned[0]!, aligned[3]!)!;
    const sIdx = broadcastIndex(aligned[0]!, shape);
    const vIdx = broadcastIndex(aligned[3]!, shape);
    return g.literal(
      Float64Array.from(sIdx, (si, i) => scale.values[si]! / Math.sqrt(variance.values[vIdx[i]!]! + eps)),
      shape,
      dtype,
    );
  });
  const dyXHat = once(() => g.op('Mul', [dy, g.op('Mul', [g.op('Sub', [g.inputName(0), param(3)]), invStd()])]));
  const sumTo = (value: string, i: number) => paramGradient(g, value, xShape, aligned[i - 1]!, g.input(i).shape);
  return [
    g.needsGradient(0) ? g.op('Mul', [dy, slope()]) : undefined,
    g.needsGradient(1) ? sumTo(dyXHat(), 1) : undefined,
    g.needsGradient(2) ? sumTo(dy, 2) : undefined,
    g.needsGradient(3) ? g.op('Neg', [sumTo(g.op('Mul', [dy, slope()]), 3)]) : undefined,
    g.needsGradient(4)
      ? sumTo(
          g.op('Mul', [dyXHat(), g.op('Mul', [g.op('Mul', [param(1), g.op('Mul', [invStd(), invStd()])]), g.literal([-0.5], [], dtype)])]),
          4,
        )
      : undefined,
  ];
};

// ---------------------------------------------------------------------------------------------
// LayerNormalization and InstanceNormalization

/** LayerNormalization's normalized axes [axis, rank) and the shape of Mean and InvStdDev. */
function layerNormAxes(ctx: NodeContext): { axes: number[]; statShape: number[]; statType: DataType } {
  if (ctx.opset < 17) ctx.fail(`LayerNormalization is an ONNX op from opset 17; the model imports opset ${ctx.opset}`);
  const x = ctx.input(0).shape;
  const axis = normalizeAxis(ctx.attributes.int('axis', -1), x.length, ctx.fail);
  const normalized = x.slice(axis);
  for (const i of [1, 2]) {
    if (!ctx.hasInput(i)) continue;
    const shape = ctx.input(i).shape;
    if (!sameShape(broadcastShapes(shape, normalized) ?? [], normalized)) {
      ctx.fail(`input ${i} [${shape.join(', ')}] does not broadcast to the normalized shape [${normalized.join(', ')}]`);
    }
  }
  const stash = ctx.attributes.int('stash_type', DataType.FLOAT);
  if (stash !== DataType.FLOAT && stash !== DataType.DOUBLE) ctx.fail(`stash_type=${stash} is not supported; 1 (float) or 11 (double) are`);
  return { axes: range(axis, x.length), statShape: x.map((d, i) => (i < axis ? d : 1)), statType: stash as DataType };
}

/** Standardizes each group over `axes` in float64: x̂, and each group's μ and (σ² + ε)^(−½). */
function standardize(x: ConstTensor, axes: readonly number[], eps: number) {
  const { groups } = groupsOf(x, axes);
  const means = groups.map((v) => v.reduce((s, a) => s + a, 0) / v.length);
  const invStds = groups.map((v, k) => 1 / Math.sqrt(v.reduce((s, a) => s + (a - means[k]!) ** 2, 0) / v.length + eps));
  const xHat = mapGroups(x, axes, (v, k) => v.map((a) => (a - means[k]!) * invStds[k]!));
  return { xHat, means, invStds };
}

/** y = x̂·γ + β with γ, β broadcast (NumPy) against x. */
function affine(
  x: ConstTensor,
  xHat: Float64Array,
  scale: ConstTensor | undefined,
  bias: ConstTensor | undefined,
  aligned: (t: ConstTensor) => number[],
): Float64Array {
  const sIdx = scale === undefined ? undefined : broadcastIndex(aligned(scale), x.dims);
  const bIdx = bias === undefined ? undefined : broadcastIndex(aligned(bias), x.dims);
  return xHat.map((v, i) => v * (scale === undefined ? 1 : scale.values[sIdx![i]!]!) + (bias === undefined ? 0 : bias.values[bIdx![i]!]!));
}

/**
 * LayerNormalization (opset 17), y = x̂·γ + β with x̂ = (x − μ)·σ⁻¹ over the axes from
 * `axis`: x̄ = σ⁻¹·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = ȳ·γ; γ̄ = Σ ȳ·x̂; β̄ = Σ ȳ
 * (sums over the leading axes). μ and σ⁻¹ are the node's own Mean and InvStdDev outputs.
 */
const layerNormGradient: GradientRule = (g) => {
  if (g.dy(1) !== undefined || g.dy(2) !== undefined) g.fail('gradients through the Mean and InvStdDev outputs are not supported');
  const dy = g.dy(0);
  if (dy === undefined) return [undefined, undefined, undefined];
  const { axes, statType } = layerNormAxes(g);
  const xShape = g.input(0).shape;
  const dtype = g.input(0).dataType;
  const stat = (i: number) => (statType === dtype ? g.forwardOutput(i) : g.op('Cast', [g.forwardOutput(i)], { to: { int: dtype } }));
  const needX = g.needsGradient(0);
  const needScale = g.needsGradient(1);
  const grads: Array<string | undefined> = [undefined, undefined, undefined];
  if (needX || needScale) {
    const invStd = stat(2);
    const xHat = g.op('Mul', [g.op('Sub', [g.inputName(0), stat(1)]), invStd]);
    if (needX) grads[0] = throughStandardization(g, g.op('Mul', [dy, g.inputName(1)]), xHat, invStd, axes);
    if (needScale) grads[1] = g.unbroadcast(g.op('Mul', [dy, xHat]), xShape, g.input(1).shape);
  }
  if (g.hasInput(2) && g.needsGradient(2)) grads[2] = g.unbroadcast(dy, xShape, g.input(2).shape);
  return grads;
};

function instanceNormChecks(ctx: NodeContext): { axes: number[]; aligned: number[] } {
  const x = ctx.input(0).shape;
  if (x.length < 3) ctx.fail(`X must have rank ≥ 3 ([N, C, D1, …]), not [${x.join(', ')}]`);
  for (const i of [1, 2]) {
    const shape = ctx.input(i).shape;
    if (shape.length !== 1 || shape[0] !== x[1]) ctx.fail(`input ${i} must have shape [${x[1]}], not [${shape.join(', ')}]`);
  }
  return { axes: range(2, x.length), aligned: channelShape([x[1]!], x.length) };
}

/**
 * InstanceNormalization, y = x̂·γ_c + β_c with x̂ standardized over the spatial axes
 * per (n, c): x̄ = σ⁻¹·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = ȳ·γ; γ̄ = Σ ȳ·x̂; β̄ = Σ ȳ
 * (sums over N and the spatial axes). μ and σ⁻¹ are recomputed with Reduce ops.
 */
const instanceNormGradient: GradientRule = (g) => {
  const { axes, aligned } = instanceNormChecks(g);
  const xShape = g.input(0).shape;
  const dtype = g.input(0).dataType;
  const dy = g.dy(0)!;
  const grads: Array<string | undefined> = [undefined, undefined, undefined];
  if (g.needsGradient(0) || g.needsGradient(1)) {
    const x = g.inputName(0);
    const centered = g.op('Sub', [x, g.reduce('ReduceMean', x, xShape, axes, true)]);
    const variance = g.reduce('ReduceMean', g.op('Mul', [centered, centered]), xShape, axes, true);
    const eps = g.literal([g.attributes.float('epsilon', 1e-5)], [], dtype);
    const invStd = g.op('Div', [g.literal([1], [], dtype), g.op('Sqrt', [g.op('Add', [variance, eps])])]);
    const xHat = g.op('Mul', [centered, invStd]);
    if (g.needsGradient(0)) grads[0] = throughStandardization(g, g.op('Mul', [dy, g.reshape(g.inputName(1), aligned)]), xHat, invStd, axes);
    if (g.needsGradient(1)) grads[1] = paramGradient(g, g.op('Mul', [dy, xHat]), xShape, aligned, g.input(1).shape);
  }
  if (g.needsGradient(2)) grads[2] = paramGradient(g, dy, xShape, aligned, g.input(2).shape);
  return grads;
};

// ---------------------------------------------------------------------------------------------
// Softmax and LogSoftmax

/**
 * The axes a softmax normalizes over: before opset 13 the input is coerced to 2-D
 * at `axis` (default 1), so every axis from `axis` on; from 13, `axis` alone (default −1).
 */
function softmaxAxes(ctx: NodeContext): number[] {
  const rank = ctx.input(0).shape.length;
  if (ctx.opset < 13) return range(normalizeAxis(ctx.attributes.int('axis', 1), rank, ctx.fail), rank);
  return [normalizeAxis(ctx.attributes.int('axis', -1), rank, ctx.fail)];
}

function evaluateSoftmax(log: boolean) {
  return (ctx: NodeContext): ConstTensor[] | undefined => {
    const x = ctx.constant(0);
    if (x === undefined) return undefined;
    const values = mapGroups(x, softmaxAxes(ctx), (v) => {
      const m = v.reduce((a, b) => Math.max(a, b), -Infinity);
      const logSum = Math.log(v.reduce((s, a) => s + Math.exp(a - m), 0));
      return v.map((a) => (log ? a - m - logSum : Math.exp(a - m - logSum)));
    });
    return [constTensor(x.dataType, x.dims, values)];
  };
}

const floatType = (ctx: NodeContext): TensorType[] => {
  const type = ctx.input(0);
  if (type.dataType !== DataType.FLOAT && type.dataType !== DataType.DOUBLE && type.dataType !== DataType.FLOAT16) {
    ctx.fail(`input of type ${dataTypeName(type.dataType)} is not supported; a float type is required`);
  }
  return [type];
};

/**
 * - BatchNormalization (inference), LayerNormalization, InstanceNormalization: see
 *   their rules above.
 * - Softmax, y = exp(x)/Σ exp(x): x̄ = y ⊙ (ȳ − Σ ȳ⊙y).
 * - LogSoftmax, y = x − log Σ exp(x): x̄ = ȳ − exp(y)·Σ ȳ.
 * (Σ over the softmax axes, keeping them.)
 */
export const NORMALIZATION_OPS: readonly OpDefinition[] = [
  {
    opType: 'BatchNormalization',
    inferTypes: (ctx) => {
      batchNormChecks(ctx);
      return [ctx.input(0)];
    },
    evaluate: evaluateBatchNorm,
    gradient: batchNormGradient,
  },
  {
    opType: 'LayerNormalization',
    inferTypes: (ctx) => {
      const { statShape, statType } = layerNormAxes(ctx);
      const stat = { dataType: statType, shape: statShape };
      return [ctx.input(0), stat, stat];
    },
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      const scale = ctx.constant(1);
      const bias = ctx.hasInput(2) ? ctx.constant(2) : undefined;
      if (x === undefined || scale === undefined || (ctx.hasInput(2) && bias === undefined)) return undefined;
      const { axes, statShape, statType } = layerNormAxes(ctx);
      const { xHat, means, invStds } = standardize(x, axes, ctx.attributes.float('epsilon', 1e-5));
      return [
        constTensor(
          x.dataType,
          x.dims,
          affine(x, xHat, scale, bias, (t) => t.dims as number[]),
        ),
        constTensor(statType, statShape, means),
        constTensor(statType, statShape, invStds),
      ];
    },
    gradient: layerNormGradient,
  },
  {
    opType: 'InstanceNormalization',
    inferTypes: (ctx) => {
      instanceNormChecks(ctx);
      return [ctx.input(0)];
    },
    evaluate: (ctx) => {
      const [x, scale, bias] = [0, 1, 2].map((i) => ctx.constant(i));
      if (x === undefined || scale === undefined || bias === undefined) return undefined;
      const { axes, aligned } = instanceNormChecks(ctx);
      const { xHat } = standardize(x, axes, ctx.attributes.float('epsilon', 1e-5));
      return [
        constTensor(
          x.dataType,
          x.dims,
          affine(x, xHat, scale, bias, () => aligned),
        ),
      ];
    },
    gradient: instanceNormGradient,
  },
  {
    opType: 'Softmax',
    inferTypes: floatType,
    evaluate: evaluateSoftmax(false),
    gradient: (g) => {
      const y = g.outputName(0);
      const dy = g.dy(0)!;
      const dot = g.reduce('ReduceSum', g.op('Mul', [dy, y]), g.output(0).shape, softmaxAxes(g), true);
      return [g.op('Mul', [y, g.op('Sub', [dy, dot])])];
    },
  },
  {
    opType: 'LogSoftmax',
    inferTypes: floatType,
    evaluate: evaluateSoftmax(true),
    gradient: (g) => {
      const dy = g.dy(0)!;
      const total = g.reduce('ReduceSum', dy, g.output(0).shape, softmaxAxes(g), true);
      return [g.op('Sub', [dy, g.op('Mul', [g.op('Exp', [g.outputName(0)]), total])])];
    },
  },
];
