import { sizeOf } from '@saliency/core';
import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import { DataType, isFloatType } from '../model/data-type.js';
import { reduceAxesAsInput } from '../model/operand-forms.js';
import { firstExtremumOneHot } from './first-extremum.js';
import type { GradientContext, GradientRule, NodeContext, OpDefinition, TensorType } from './op-definition.js';
import { scalar, signOf } from './rule-helpers.js';
import { groupsOf, normalizeAxis } from './tensor-math.js';

/** What a Reduce* node reduces, resolved against its input's static shape. */
export interface Reduction {
  /** Reduced axes, non-negative and ascending. */
  readonly axes: readonly number[];
  /** noop_with_empty_axes with no axes: the op is the identity. */
  readonly noop: boolean;
  readonly inShape: readonly number[];
  /** The input's shape with 1 at each reduced axis (the output shape under keepdims=1). */
  readonly keepShape: readonly number[];
  readonly outShape: readonly number[];
}

/** ReduceSum takes its axes as an input from opset 13, the other Reduce* ops from opset 18. */
function allAxes(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i);
}

export function reductionOf(ctx: NodeContext): Reduction {
  const inShape = ctx.input(0).shape;
  const rank = inShape.length;
  let listed: number[] | undefined;
  let noop = false;
  if (reduceAxesAsInput(ctx.node.opType, ctx.opset)) {
    if (ctx.hasInput(1)) {
      const axes = ctx.constant(1);
      if (axes === undefined) ctx.fail('the axes (input 1) must be known when the model is built');
      listed = Array.from(axes!.values);
    }
    if (listed === undefined || listed.length === 0) {
      listed = undefined;
      noop = ctx.attributes.int('noop_with_empty_axes', 0) === 1;
    }
  } else {
    listed = ctx.attributes.ints('axes');
    if (listed !== undefined && listed.length === 0) listed = undefined;
  }
  const axes = noop ? [] : listed === undefined ? allAxes(rank) : listed.map((a) => normalizeAxis(a, rank, ctx.fail));
  if (new Set(axes).size !== axes.length) ctx.fail(`axes [${listed!.join(', ')}] repeat an axis`);
  axes.sort((a, b) => a - b);
  const keepdims = ctx.attributes.int('keepdims', 1) === 1;
  const keepShape = inShape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = noop || keepdims ? (noop ? [...inShape] : keepShape) : inShape.filter((_, i) => !axes.includes(i));
  return { axes, noop, inShape, keepShape, outShape };
}

const sum = (v: readonly number[]) => v.reduce((s, x) => s + x, 0);

/** Each Reduce* op's value on one group, in float64. */
const REDUCERS: Readonly<Record<string, (values: readonly number[]) => number>> = {
  ReduceSum: sum,
  ReduceMean: (v) => sum(v) / v.length,
  ReduceMax: (v) => v.reduce((m, x) => (x > m || Number.isNaN(x) ? x : m), -Infinity),
  ReduceMin: (v) => v.reduce((m, x) => (x < m || Number.isNaN(x) ? x : m), Infinity),
  ReduceProd: (v) => v.reduce((p, x) => p * x, 1),
  ReduceL1: (v) => sum(v.map(Math.abs)),
  ReduceL2: (v) => Math.sqrt(sum(v.map((x) => x * x))),
  ReduceSumSquare: (v) => sum(v.map((x) => x * x)),
  ReduceLogSum: (v) => Math.log(sum(v)),
  ReduceLogSumExp: (v) => {
    const m = v.reduce((a, x) => Math.max(a, x), -Infinity);
    return m === -Infinity || m === Infinity ? Math.log(sum(v.map(Math.exp))) : m + Math.log(sum(v.map((x) => Math.exp(x - m))));
  },
};

function evaluateReduction(ctx: NodeContext): ConstTensor[] | undefined {
  const x = ctx.constant(0);
  if (x === undefined) return undefined;
  const r = reductionOf(ctx);
  if (r.noop) return [x];
  const reducer = REDUCERS[ctx.node.opType]!;
  // Integer results are cast back to the input type as the reference implementation does (truncation).
  const cast = isFloatType(x.dataType) ? (v: number) => v : Math.trunc;
  const { groups } = groupsOf(x, r.axes);
  return [
    constTensor(
      x.dataType,
      r.outShape,
      groups.map((group) => cast(reducer(group))),
    ),
  ];
}

/**
 * Broadcasts `value`, of the keepdims shape, back to the input shape. Tile with
 * static repeats rather than Expand (which the WebGL EP lacks) or a Mul with a
 * literal of ones (an initializer the size of the input).
 */
export function tileTo(g: GradientContext, value: string, keepShape: readonly number[], shape: readonly number[]): string {
  const repeats = shape.map((d, i) => (keepShape[i] === 1 ? d : 1));
  if (repeats.every((n) => n === 1)) return value;
  return g.op('Tile', [value, g.literal(repeats, [repeats.length], DataType.INT64)]);
}

/** The cotangent ȳ in the keepdims shape, so that it broadcasts against the input. */
function dyKept(g: GradientContext, r: Reduction): string {
  return g.reshape(g.dy(0)!, r.keepShape);
}

/** The forward output in the keepdims shape. */
function yKept(g: GradientContext, r: Reduction): string {
  return g.reshape(g.outputName(0), r.keepShape);
}

/**
 * The reduced input laid out as [K, R]: kept axes first (K elements), reduced
 * axes last in their order (R elements), so that a row scans its group in
 * row-major order; `back` undoes the layout of a [K, R] cotangent.
 */
function asRows(g: GradientContext, r: Reduction): { rows: string; K: number; R: number; back: (value: string) => string } {
  const rank = r.inShape.length;
  const kept = allAxes(rank).filter((a) => !r.axes.includes(a));
  const perm = [...kept, ...r.axes];
  const identity = perm.every((a, i) => a === i);
  const permuted = perm.map((a) => r.inShape[a]!);
  const K = sizeOf(kept.map((a) => r.inShape[a]!));
  const R = sizeOf(r.axes.map((a) => r.inShape[a]!));
  const transposed = identity ? g.inputName(0) : g.op('Transpose', [g.inputName(0)], { perm: { ints: perm } });
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return {
    rows: g.reshape(transposed, [K, R]),
    K,
    R,
    back: (value) => {
      const reshaped = g.reshape(value, permuted);
      return identity ? reshaped : g.op('Transpose', [reshaped], { perm: { ints: inverse } });
    },
  };
}

/**
 * ReduceMax/ReduceMin: x̄ = onehot(first extremum of each group) · ȳ. The first
 * (row-major) extremum takes the whole cotangent, as MaxPool's indices do
 * (`firstExtremumOneHot` over the [K, R] layout).
 */
function firstExtremumGradient(extremum: 'max' | 'min'): GradientRule {
  return (g) => {
    const r = reductionOf(g);
    if (r.noop) return [g.dy(0)];
    const { rows, K, R, back } = asRows(g, r);
    const oneHot = firstExtremumOneHot(g, rows, [K, R], extremum);
    return [back(g.op('Mul', [oneHot, g.reshape(g.dy(0)!, [K, 1])]))];
  };
}

/**
 * ReduceProd: x̄_i = ȳ · Π_{j≠i} x_j, exact where some x_j = 0 (no division by y):
 * each row is repeated R times with its i-th entry replaced by 1, and reduced by
 * ReduceProd, at O(K·R²) cost.
 */
const prodGradient: GradientRule = (g) => {
  const r = reductionOf(g);
  if (r.noop) return [g.dy(0)];
  const { rows, K, R, back } = asRows(g, r);
  const eye = new Float64Array(R * R);
  for (let i = 0; i < R; i++) eye[i * R + i] = 1;
  const dtype = g.input(0).dataType;
  const masked = g.op('Mul', [
    g.reshape(rows, [K, 1, R]),
    g.literal(
      eye.map((v) => 1 - v),
      [R, R],
      dtype,
    ),
  ]);
  const others = g.reduce('ReduceProd', g.op('Add', [masked, g.literal(eye, [R, R], dtype)]), [K, R, R], [2], false);
  return [back(g.op('Mul', [others, g.reshape(g.dy(0)!, [K, 1])]))];
};

/** A rule for a reduction whose cotangent is `local(x, ȳ_kept, y_kept)`, a broadcasting expression. */
function pointwise(local: (g: GradientContext, r: Reduction) => string): GradientRule {
  return (g) => {
    if (!g.needsGradient(0)) return [undefined];
    const r = reductionOf(g);
    return [r.noop ? g.dy(0) : local(g, r)];
  };
}

const reductionTypes = (ctx: NodeContext): TensorType[] => [{ dataType: ctx.input(0).dataType, shape: reductionOf(ctx).outShape }];

function reduction(opType: string, gradient: GradientRule): OpDefinition {
  return { opType, inferTypes: reductionTypes, evaluate: evaluateReduction, gradient };
}

/** ArgMax/ArgMin: the int64 index of the first (or, with select_last_index, last) extremum along `axis`. */
function argReduction(opType: 'ArgMax' | 'ArgMin'): OpDefinition {
  const resolve = (ctx: NodeContext) => {
    const shape = ctx.input(0).shape;
    const axis = normalizeAxis(ctx.attributes.int('axis', 0), shape.length, ctx.fail);
    const keepdims = ctx.attributes.int('keepdims', 1) === 1;
    return { axis, outShape: keepdims ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis) };
  };
  return {
    opType,
    inferTypes: (ctx) => [{ dataType: DataType.INT64, shape: resolve(ctx).outShape }],
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      if (x === undefined) return undefined;
      const { axis, outShape } = resolve(ctx);
      const last = ctx.attributes.int('select_last_index', 0) === 1;
      const better = opType === 'ArgMax' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
      const { groups } = groupsOf(x, [axis]);
      const values = groups.map((group) => {
        let best = 0;
        group.forEach((v, i) => {
          if (better(v, group[best]!) || (last && v === group[best]!)) best = i;
        });
        return best;
      });
      return [constTensor(DataType.INT64, outShape, values)];
    },
    gradient: 'none',
  };
}

/**
 * The Reduce* family; each gradient below is for ȳ reshaped to the keepdims
 * shape (ȳₖ), broadcast back over the reduced axes:
 * - ReduceSum: x̄ = ȳₖ;  ReduceMean: x̄ = ȳₖ / n (n elements per group);
 * - ReduceSumSquare: x̄ = 2x·ȳₖ;  ReduceL2: x̄ = x·ȳₖ / y (0 where y = 0);
 * - ReduceL1: x̄ = sign(x)·ȳₖ;  ReduceLogSum: x̄ = ȳₖ / exp(y);
 *   ReduceLogSumExp: x̄ = exp(x − y)·ȳₖ;
 * - ReduceMax/ReduceMin: the first extremum of each group gets ȳ;
 * - ReduceProd: x̄_i = ȳ·Π_{j≠i} x_j.
 */
export const REDUCTION_OPS: readonly OpDefinition[] = [
  reduction(
    'ReduceSum',
    pointwise((g, r) => tileTo(g, dyKept(g, r), r.keepShape, r.inShape)),
  ),
  reduction(
    'ReduceMean',
    pointwise((g, r) => {
      const count = sizeOf(r.axes.map((a) => r.inShape[a]!));
      return tileTo(g, g.op('Mul', [dyKept(g, r), scalar(g, 1 / count, g.input(0).dataType)]), r.keepShape, r.inShape);
    }),
  ),
  reduction(
    'ReduceSumSquare',
    pointwise((g, r) => g.op('Mul', [g.op('Mul', [g.inputName(0), scalar(g, 2, g.input(0).dataType)]), dyKept(g, r)])),
  ),
  reduction(
    'ReduceL2',
    pointwise((g, r) => {
      // All of a group is 0 where its norm is: flooring the norm at the smallest
      // normal float32 gives 0 there instead of 0/0, and changes nothing else.
      // Max broadcasts from opset 8; before, the floor is a literal of the norm's shape.
      const tiny = 2 ** -126;
      const floor =
        g.opset >= 8
          ? scalar(g, tiny, g.input(0).dataType)
          : g.literal(new Array<number>(sizeOf(r.keepShape)).fill(tiny), r.keepShape, g.input(0).dataType);
      const norm = g.op('Max', [yKept(g, r), floor]);
      return g.op('Mul', [g.inputName(0), g.op('Div', [dyKept(g, r), norm])]);
    }),
  ),
  reduction(
    'ReduceL1',
    pointwise((g, r) => {
      return g.op('Mul', [signOf(g, g.inputName(0), g.input(0).dataType), dyKept(g, r)]);
    }),
  ),
  reduction(
    'ReduceLogSum',
    pointwise((g, r) => tileTo(g, g.op('Div', [dyKept(g, r), g.op('Exp', [yKept(g, r)])]), r.keepShape, r.inShape)),
  ),
  reduction(
    'ReduceLogSumExp',
    pointwise((g, r) => g.op('Mul', [g.op('Exp', [g.op('Sub', [g.inputName(0), yKept(g, r)])]), dyKept(g, r)])),
  ),
  reduction('ReduceMax', (g) => (g.needsGradient(0) ? firstExtremumGradient('max')(g) : [undefined])),
  reduction('ReduceMin', (g) => (g.needsGradient(0) ? firstExtremumGradient('min')(g) : [undefined])),
  reduction('ReduceProd', (g) => (g.needsGradient(0) ? prodGradient(g) : [undefined])),
  argReduction('ArgMax'),
  argReduction('ArgMin'),
];
