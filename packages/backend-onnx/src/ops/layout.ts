import { sizeOf } from '@saliency/core';
import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import type { GradientContext, NodeContext } from './op-definition.js';
import { forEachIndex, normalizeAxis, stridesOf } from './tensor-math.js';

/**
 * Host-side layout arithmetic shared by the shape, indexing, pad and pooling ops, and the
 * few layout nodes their gradients emit in the form each opset wants.
 */

/**
 * An int list given as attribute `name` before opset `since` and as input
 * `index` from it (Squeeze's axes, Split's split, Pad's pads); undefined when
 * omitted. As an input it must be known when the model is built.
 */
export function intsOperand(ctx: NodeContext, name: string, index: number, since: number): number[] | undefined {
  if (ctx.opset < since) return ctx.attributes.ints(name);
  if (!ctx.hasInput(index)) return undefined;
  const value = ctx.constant(index);
  if (value === undefined) ctx.fail(`${name} (input ${index}) must be known when the model is built`);
  return Array.from(value!.values);
}

/** Axes in [−rank, rank) as distinct non-negative axes. */
export function normalizeAxes(axes: readonly number[], rank: number, ctx: NodeContext): number[] {
  const result = axes.map((axis) => normalizeAxis(axis, rank, ctx.fail));
  if (new Set(result).size !== result.length) ctx.fail(`axes [${axes.join(', ')}] repeat an axis`);
  return result;
}

export function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return inverse;
}

/**
 * A strided view of `x` materialized: element o of the result is
 * x.values[offset + Σ o_a · strides[a]] (Transpose, Expand with stride 0, Slice).
 */
export function stridedView(x: ConstTensor, outShape: readonly number[], strides: readonly number[], offset = 0): ConstTensor {
  const values = new Float64Array(sizeOf(outShape));
  forEachIndex(outShape, (o, flat) => {
    let source = offset;
    for (let axis = 0; axis < o.length; axis++) source += o[axis]! * strides[axis]!;
    values[flat] = x.values[source]!;
  });
  return constTensor(x.dataType, outShape, values);
}

/**
 * Element o of the result is x at (tables[0][o_0], …, tables[r−1][o_{r−1}]),
 * or `fill` where an entry is −1: each axis moved on its own (Pad, Tile).
 */
export function remapAxes(x: ConstTensor, outShape: readonly number[], tables: ReadonlyArray<ArrayLike<number>>, fill = 0): ConstTensor {
  const strides = stridesOf(x.dims);
  const values = new Float64Array(sizeOf(outShape));
  forEachIndex(outShape, (o, flat) => {
    let source = 0;
    for (let axis = 0; axis < o.length; axis++) {
      const c = tables[axis]![o[axis]!]!;
      if (c < 0) {
        values[flat] = fill;
        return;
      }
      source += c * strides[axis]!;
    }
    values[flat] = x.values[source]!;
  });
  return constTensor(x.dataType, outShape, values);
}

export function transposeTensor(x: ConstTensor, perm: readonly number[]): ConstTensor {
  const strides = stridesOf(x.dims);
  return stridedView(
    x,
    perm.map((p) => x.dims[p]!),
    perm.map((p) => strides[p]!),
  );
}

/** Transpose's permutation; by default it reverses the axes. */
export function transposePerm(ctx: NodeContext, rank: number): number[] {
  const perm = ctx.attributes.ints(
    'perm',
    Array.from({ length: rank }, (_, i) => rank - 1 - i),
  );
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    ctx.fail(`perm [${perm.join(', ')}] is not a permutation of ${rank} axes`);
  }
  return perm;
}

const int64 = (g: GradientContext, values: readonly number[]) => g.literal(values, [values.length], DataType.INT64);

/** Slice along `axes`: attributes before opset 10, inputs from it (where steps also exist). */
export function emitSlice(
  g: GradientContext,
  input: string,
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[],
  steps?: readonly number[],
): string {
  if (g.opset < 10) {
    if (steps?.some((s) => s !== 1)) g.fail('unreachable: Slice steps before opset 10');
    return g.op('Slice', [input], { starts: { ints: starts }, ends: { ints: ends }, axes: { ints: axes } });
  }
  const inputs = [input, int64(g, starts), int64(g, ends), int64(g, axes)];
  if (steps !== undefined) inputs.push(int64(g, steps));
  return g.op('Slice', inputs);
}

/** Zero padding with non-negative `pads` [b_0 … b_{r−1}, e_0 … e_{r−1}]: attribute before opset 11, input from it. */
export function emitPad(g: GradientContext, input: string, pads: readonly number[]): string {
  if (pads.every((p) => p === 0)) return input;
  if (g.opset < 11) return g.op('Pad', [input], { pads: { ints: pads }, mode: { string: 'constant' } });
  return g.op('Pad', [input, int64(g, pads)]);
}

/** Where each of consecutive parts of `sizes` starts: 0, sizes[0], sizes[0] + sizes[1], … */
export function partStarts(sizes: readonly number[]): number[] {
  const starts: number[] = [];
  let offset = 0;
  for (const n of sizes) {
    starts.push(offset);
    offset += n;
  }
  return starts;
}

/**
 * Split into `sizes` along `axis`: attribute before opset 13, input from it;
 * one Slice per part where the target lacks the input form (WebGL).
 */
export function emitSplit(g: GradientContext, input: string, axis: number, sizes: readonly number[]): string[] {
  if (g.opset < 13) return g.ops('Split', [input], sizes.length, { axis: { int: axis }, split: { ints: sizes } });
  if (!g.supports('splitSizesInput')) {
    const starts = partStarts(sizes);
    return sizes.map((n, i) => emitSlice(g, input, [starts[i]!], [starts[i]! + n], [axis]));
  }
  return g.ops('Split', [input, int64(g, sizes)], sizes.length, { axis: { int: axis } });
}

/** A literal zero tensor of the cotangents' element type. */
export function zeros(g: GradientContext, shape: readonly number[]): string {
  return g.literal(new Float64Array(sizeOf(shape)), shape, g.input(0).dataType);
}
