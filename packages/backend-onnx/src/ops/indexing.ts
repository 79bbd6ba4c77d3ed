import { sizeOf } from '@saliency/core';
import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import { emitPad, emitSlice, emitSplit, intsOperand, normalizeAxes, partStarts, stridedView, zeros } from './layout.js';
import type { GradientContext, NodeContext, OpDefinition } from './op-definition.js';
import { normalizeAxis, stridesOf } from './tensor-math.js';

/** Concat: every input has the first one's shape except along `axis`. */
function concatGeometry(ctx: NodeContext): { axis: number; sizes: number[]; shape: number[] } {
  const first = ctx.input(0).shape;
  const axis = normalizeAxis(ctx.attributes.int('axis') ?? ctx.fail('axis must be given'), first.length, ctx.fail);
  const sizes: number[] = [];
  for (let i = 0; i < ctx.inputCount; i++) {
    const shape = ctx.input(i).shape;
    if (shape.length !== first.length || shape.some((d, a) => a !== axis && d !== first[a])) {
      ctx.fail(`input ${i} of shape [${shape.join(', ')}] does not concatenate with [${first.join(', ')}] along axis ${axis}`);
    }
    sizes.push(shape[axis]!);
  }
  const shape = [...first];
  shape[axis] = sizes.reduce((a, b) => a + b, 0);
  return { axis, sizes, shape };
}

/** Split's part sizes: `split` (attribute before opset 13, input from it), else `num_outputs` (opset 18), else equal parts. */
function splitGeometry(ctx: NodeContext): { axis: number; sizes: number[] } {
  const shape = ctx.input(0).shape;
  const axis = normalizeAxis(ctx.attributes.int('axis', 0), shape.length, ctx.fail);
  const d = shape[axis]!;
  const parts = ctx.node.output.length;
  const split = intsOperand(ctx, 'split', 1, 13);
  if (split !== undefined) {
    if (split.length !== parts || split.some((n) => n < 0) || split.reduce((a, b) => a + b, 0) !== d) {
      ctx.fail(`split [${split.join(', ')}] does not cut axis ${axis} of size ${d} into ${parts} outputs`);
    }
    return { axis, sizes: split };
  }
  const numOutputs = ctx.opset >= 18 ? ctx.attributes.int('num_outputs') : undefined;
  if (numOutputs !== undefined) {
    // Opset 18: chunks of ⌈d/n⌉, the last one smaller.
    const chunk = Math.ceil(d / numOutputs);
    const last = d - chunk * (numOutputs - 1);
    if (numOutputs !== parts || last < 0) {
      ctx.fail(`num_outputs ${numOutputs} does not cut axis ${axis} of size ${d} into ${parts} outputs`);
    }
    return { axis, sizes: [...new Array<number>(numOutputs - 1).fill(chunk), last] };
  }
  if (d % parts !== 0) ctx.fail(`axis ${axis} of size ${d} does not split into ${parts} equal outputs`);
  return { axis, sizes: new Array<number>(parts).fill(d / parts) };
}

/** Copies of `x` along `axis` from `offset` for `size`: Split's evaluate. */
function sliceAlong(x: ConstTensor, axis: number, offset: number, size: number): ConstTensor {
  const strides = stridesOf(x.dims);
  const shape = [...x.dims];
  shape[axis] = size;
  return stridedView(x, shape, strides, offset * strides[axis]!);
}

/** One sliced axis: the elements start + k·step for k < length. */
interface SlicedAxis {
  readonly axis: number;
  readonly start: number;
  readonly step: number;
  readonly length: number;
}

/**
 * Slice's axes, clamped per the specification: negative starts and ends count
 * from the end; then, for step > 0, both clamp to [0, d]; for step < 0, start
 * to [0, d−1] and end to [−1, d−1]; length = max(0, ⌈(end − start)/step⌉).
 * Attributes before opset 10; inputs starts, ends, axes, steps from it.
 */
function sliceGeometry(ctx: NodeContext): { sliced: SlicedAxis[]; shape: number[] } {
  const input = ctx.input(0).shape;
  const starts = intsOperand(ctx, 'starts', 1, 10) ?? ctx.fail('starts must be given');
  const ends = intsOperand(ctx, 'ends', 2, 10) ?? ctx.fail('ends must be given');
  const axes = normalizeAxes(intsOperand(ctx, 'axes', 3, 10) ?? starts.map((_, i) => i), input.length, ctx);
  const steps = ctx.opset < 10 ? undefined : intsOperand(ctx, 'steps', 4, 10);
  if (ends.length !== starts.length || axes.length !== starts.length || (steps !== undefined && steps.length !== starts.length)) {
    ctx.fail('starts, ends, axes and steps must have the same length');
  }
  const shape = [...input];
  const sliced = axes.map((axis, i) => {
    const d = input[axis]!;
    const step = steps?.[i] ?? 1;
    if (step === 0) ctx.fail(`steps[${i}] is 0`);
    let start = starts[i]! < 0 ? starts[i]! + d : starts[i]!;
    let end = ends[i]! < 0 ? ends[i]! + d : ends[i]!;
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    start = step > 0 ? clamp(start, 0, d) : clamp(start, 0, d - 1);
    end = step > 0 ? clamp(end, 0, d) : clamp(end, -1, d - 1);
    const length = Math.max(0, Math.ceil((end - start) / step));
    shape[axis] = length;
    return { axis, start, step, length };
  });
  return { sliced, shape };
}

/**
 * y = x[start : end : step] per axis; x̄ scatters ȳ back with zeros elsewhere,
 * statically: reverse the axes of negative step (so each axis runs upwards from
 * its lowest element l = start + (n−1)·step), interleave |step| − 1 zeros after
 * each element (reshape to [n, 1], Pad to [n, |step|], reshape to n·|step|),
 * trim to at most d − l, and Pad l zeros before and the rest after.
 */
function sliceGradient(g: GradientContext): Array<string | undefined> {
  const grads: Array<string | undefined> = new Array(g.inputCount).fill(undefined);
  if (!g.needsGradient(0)) return grads;
  const input = g.input(0).shape;
  const { sliced, shape } = sliceGeometry(g);
  if (sizeOf(shape) === 0) {
    grads[0] = zeros(g, input);
    return grads;
  }
  let dy = g.dy(0)!;
  const reversed = sliced.filter((s) => s.step < 0 && s.length > 1);
  if (reversed.length > 0) {
    // Start −1 and end −(n + 1) with step −1 reverse all n elements.
    const minusOnes = reversed.map(() => -1);
    dy = emitSlice(
      g,
      dy,
      minusOnes,
      reversed.map((s) => -s.length - 1),
      reversed.map((s) => s.axis),
      minusOnes,
    );
  }
  const lowest = input.map(() => 0);
  const extent = [...shape];
  const stride = input.map(() => 1);
  for (const s of sliced) {
    lowest[s.axis] = s.step > 0 ? s.start : s.start + (s.length - 1) * s.step;
    if (s.length > 1) stride[s.axis] = Math.abs(s.step);
  }
  if (stride.some((s) => s > 1)) {
    const spread = shape.flatMap((n, a) => (stride[a]! > 1 ? [n, 1] : [n]));
    const interleave = new Array<number>(2 * spread.length).fill(0);
    let at = 0;
    shape.forEach((n, a) => {
      if (stride[a]! > 1) interleave[spread.length + at + 1] = stride[a]! - 1;
      at += stride[a]! > 1 ? 2 : 1;
      extent[a] = n * stride[a]!;
    });
    dy = g.reshape(emitPad(g, g.reshape(dy, spread), interleave), extent);
    const over = input.flatMap((d, a) => (extent[a]! > d - lowest[a]! ? [a] : []));
    if (over.length > 0) {
      for (const a of over) extent[a] = (shape[a]! - 1) * stride[a]! + 1;
      dy = emitSlice(
        g,
        dy,
        over.map(() => 0),
        over.map((a) => extent[a]!),
        over,
      );
    }
  }
  grads[0] = emitPad(g, dy, [...lowest, ...input.map((d, a) => d - lowest[a]! - extent[a]!)]);
  return grads;
}

/** Gather: data's shape with axis replaced by the indices' shape; negative indices count from the end. */
function gatherGeometry(ctx: NodeContext): { axis: number; shape: number[] } {
  const data = ctx.input(0).shape;
  const indices = ctx.input(1).shape;
  const axis = normalizeAxis(ctx.attributes.int('axis', 0), data.length, ctx.fail);
  return { axis, shape: [...data.slice(0, axis), ...indices, ...data.slice(axis + 1)] };
}

function gatherIndices(ctx: NodeContext, indices: ConstTensor, d: number): number[] {
  return Array.from(indices.values, (i) => {
    if (!Number.isInteger(i) || i < -d || i >= d) ctx.fail(`index ${i} is out of range for an axis of size ${d}`);
    return i < 0 ? i + d : i;
  });
}

export const INDEXING_OPS: readonly OpDefinition[] = [
  {
    /** y = concat(x_0, …, x_n) along axis: x̄_i = ȳ[…, o_i : o_i + d_i, …] (Split, or one Slice when one input needs it). */
    opType: 'Concat',
    inferTypes: (ctx) => [{ dataType: ctx.input(0).dataType, shape: concatGeometry(ctx).shape }],
    evaluate: (ctx) => {
      const inputs = Array.from({ length: ctx.inputCount }, (_, i) => ctx.constant(i));
      if (inputs.some((x) => x === undefined)) return undefined;
      const { axis, shape } = concatGeometry(ctx);
      const outer = sizeOf(shape.slice(0, axis));
      const values = new Float64Array(sizeOf(shape));
      let at = 0;
      for (let o = 0; o < outer; o++) {
        for (const x of inputs) {
          const chunk = x!.values.length / outer;
          values.set(x!.values.subarray(o * chunk, (o + 1) * chunk), at);
          at += chunk;
        }
      }
      return [constTensor(inputs[0]!.dataType, shape, values)];
    },
    gradient: (g) => {
      const { axis, sizes } = concatGeometry(g);
      const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
      const needed = sizes.map((_, i) => g.needsGradient(i));
      if (needed.filter(Boolean).length > 1 && sizes.every((n) => n > 0)) {
        const parts = emitSplit(g, g.dy(0)!, axis, sizes);
        return parts.map((part, i) => (needed[i] ? part : undefined));
      }
      return sizes.map((n, i) => (needed[i] ? emitSlice(g, g.dy(0)!, [offsets[i]!], [offsets[i]! + n], [axis]) : undefined));
    },
  },
  {
    /** y_j = x[…, o_j : o_j + d_j, …]: x̄ = concat(ȳ_0, …, ȳ_n) along axis, zeros for outputs without a cotangent. */
    opType: 'Split',
    inferTypes: (ctx) => {
      const { dataType, shape } = ctx.input(0);
      const { axis, sizes } = splitGeometry(ctx);
      return sizes.map((n) => ({ dataType, shape: shape.map((d, a) => (a === axis ? n : d)) }));
    },
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      if (x === undefined) return undefined;
      const { axis, sizes } = splitGeometry(ctx);
      const starts = partStarts(sizes);
      return sizes.map((n, i) => sliceAlong(x, axis, starts[i]!, n));
    },
    gradient: (g) => {
      if (!g.needsGradient(0)) return [];
      const shape = g.input(0).shape;
      const { axis, sizes } = splitGeometry(g);
      const partShape = (n: number) => shape.map((d, a) => (a === axis ? n : d));
      const parts = sizes.map((n, j) => g.dy(j) ?? zeros(g, partShape(n)));
      return [parts.length === 1 ? parts[0] : g.op('Concat', parts, { axis: { int: axis } })];
    },
  },
  {
    opType: 'Slice',
    inferTypes: (ctx) => [{ dataType: ctx.input(0).dataType, shape: sliceGeometry(ctx).shape }],
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      if (x === undefined) return undefined;
      const { sliced, shape } = sliceGeometry(ctx);
      const strides = stridesOf(x.dims);
      const steps = [...strides];
      let offset = 0;
      for (const s of sliced) {
        offset += s.start * strides[s.axis]!;
        steps[s.axis] = s.step * strides[s.axis]!;
      }
      return [stridedView(x, shape, steps, sizeOf(shape) === 0 ? 0 : offset)];
    },
    gradient: sliceGradient,
  },
  {
    /**
     * y[p, k, q] = x[p, idx[k], q]: x̄[p, j, q] = Σ_{k: idx[k] = j} ȳ[p, k, q],
     * i.e. x̄ = Hᵀ ȳ per (p, q) with the one-hot H[k, j] = [idx[k] = j]; a
     * MatMul against the literal Hᵀ [d, K] broadcast over p sums repeated
     * indices without a scatter.
     */
    opType: 'Gather',
    inferTypes: (ctx) => [{ dataType: ctx.input(0).dataType, shape: gatherGeometry(ctx).shape }],
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      const indices = ctx.constant(1);
      if (x === undefined || indices === undefined) return undefined;
      const { axis, shape } = gatherGeometry(ctx);
      const d = x.dims[axis]!;
      const index = gatherIndices(ctx, indices, d);
      const outer = sizeOf(x.dims.slice(0, axis));
      const inner = sizeOf(x.dims.slice(axis + 1));
      const values = new Float64Array(sizeOf(shape));
      let at = 0;
      for (let p = 0; p < outer; p++) {
        for (const j of index) {
          values.set(x.values.subarray((p * d + j) * inner, (p * d + j + 1) * inner), at);
          at += inner;
        }
      }
      return [constTensor(x.dataType, shape, values)];
    },
    gradient: (g) => {
      if (!g.needsGradient(0)) return [undefined, undefined];
      const indices = g.constant(1);
      if (indices === undefined) g.fail('the gradient needs the indices (input 1) known when the model is built');
      const data = g.input(0).shape;
      const { axis } = gatherGeometry(g);
      const d = data[axis]!;
      const index = gatherIndices(g, indices!, d);
      const k = index.length;
      const oneHotT = new Float64Array(d * k);
      index.forEach((j, i) => (oneHotT[j * k + i] = 1));
      const outer = sizeOf(data.slice(0, axis));
      const inner = sizeOf(data.slice(axis + 1));
      const dy = g.reshape(g.dy(0)!, outer === 1 ? [k, inner] : [outer, k, inner]);
      const dx = g.op('MatMul', [g.literal(oneHotT, [d, k], g.input(0).dataType), dy]);
      return [g.reshape(dx, data), undefined];
    },
  },
];
