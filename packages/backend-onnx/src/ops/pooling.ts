import { sizeOf } from '@saliency/core';
import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import { emitPad, emitSlice, inversePermutation } from './layout.js';
import { firstExtremumOneHot } from './first-extremum.js';
import type { GradientContext, NodeContext, OpDefinition, TensorType } from './op-definition.js';
import { forEachIndex } from './tensor-math.js';
import { transposeWindow, windowOf, windowTaps, type Window } from './window.js';

/** A pool's window over X [N, C, spatial…], from its kernel_shape. */
function poolWindow(ctx: NodeContext): Window {
  const x = ctx.input(0).shape;
  if (x.length < 3) ctx.fail(`input X of rank ${x.length} has no spatial axis`);
  const kernel = ctx.attributes.ints('kernel_shape');
  if (kernel === undefined) ctx.fail('attribute kernel_shape is required');
  return windowOf(ctx, x.slice(2), kernel!, 'pool');
}

const pooledShape = (ctx: NodeContext, w: Window): number[] => [...ctx.input(0).shape.slice(0, 2), ...w.outSizes];

function maxPoolWindow(ctx: NodeContext): Window {
  const storageOrder = ctx.attributes.int('storage_order', 0);
  if (storageOrder !== 0) ctx.fail(`storage_order ${storageOrder} is not supported; allowed: 0 (row-major indices)`);
  return poolWindow(ctx);
}

/**
 * Y = the window maximum over the input positions (padding excluded);
 * Indices = the flat index into X (batch and channel included, row-major) of
 * the FIRST maximal element in row-major window order.
 */
function evaluateMaxPool(ctx: NodeContext): ConstTensor[] | undefined {
  const x = ctx.constant(0);
  if (x === undefined) return undefined;
  const w = maxPoolWindow(ctx);
  const taps = windowTaps(w);
  const inSize = sizeOf(w.inSizes);
  const planes = x.dims[0]! * x.dims[1]!;
  const y = new Float64Array(planes * taps.length);
  const indices = new Float64Array(y.length);
  for (let plane = 0; plane < planes; plane++) {
    taps.forEach((row, o) => {
      let best = -Infinity;
      let at = -1;
      for (const p of row) {
        if (p >= 0 && (at < 0 || x.values[plane * inSize + p]! > best)) {
          best = x.values[plane * inSize + p]!;
          at = plane * inSize + p;
        }
      }
      y[plane * taps.length + o] = best;
      indices[plane * taps.length + o] = at;
    });
  }
  const shape = pooledShape(ctx, w);
  return [constTensor(x.dataType, shape, y), constTensor(DataType.INT64, shape, indices)];
}

/** Per output position (flat), the divisor of AveragePool: the taps counted, padding included or not. */
function averageCounts(w: Window, includePad: boolean): Float64Array {
  const perAxis = w.inSizes.map((input, a) => {
    const [lo, hi] = includePad ? [-w.padsBegin[a]!, input + w.padsEnd[a]!] : [0, input];
    return Array.from({ length: w.outSizes[a]! }, (_, o) => {
      let count = 0;
      for (let j = 0; j < w.kernel[a]!; j++) {
        const i = o * w.strides[a]! + j * w.dilations[a]! - w.padsBegin[a]!;
        if (i >= lo && i < hi) count++;
      }
      return count;
    });
  });
  const counts = new Float64Array(sizeOf(w.outSizes));
  forEachIndex(w.outSizes, (o, flat) => {
    counts[flat] = o.reduce((n, oa, a) => n * perAxis[a]![oa]!, 1);
  });
  return counts;
}

function averagePoolSetup(ctx: NodeContext) {
  const w = poolWindow(ctx);
  const includePad = ctx.attributes.int('count_include_pad', 0);
  if (includePad !== 0 && includePad !== 1) ctx.fail(`count_include_pad ${includePad} is not supported; allowed: 0, 1`);
  return { w, counts: averageCounts(w, includePad === 1) };
}

/** Y = Σ_{window ∩ input} X / count, count with or without the padding (count_include_pad). */
function evaluateAveragePool(ctx: NodeContext): ConstTensor[] | undefined {
  const x = ctx.constant(0);
  if (x === undefined) return undefined;
  const { w, counts } = averagePoolSetup(ctx);
  const taps = windowTaps(w);
  const inSize = sizeOf(w.inSizes);
  const planes = x.dims[0]! * x.dims[1]!;
  const y = new Float64Array(planes * taps.length);
  for (let plane = 0; plane < planes; plane++) {
    taps.forEach((row, o) => {
      let sum = 0;
      for (const p of row) if (p >= 0) sum += x.values[plane * inSize + p]!;
      y[plane * taps.length + o] = sum / counts[o]!;
    });
  }
  return [constTensor(x.dataType, pooledShape(ctx, w), y)];
}

/** ȳ [N, C, out…] as N·C single-channel planes, sent back over the window by a ConvTranspose with `weight` [K, 1, kernel…]. */
function scatterPlanes(g: GradientContext, planes: string, weight: string, w: Window): string {
  const x = g.input(0).shape;
  const scattered = transposeWindow(g, planes, weight, w, 1);
  return g.reshape(scattered, x);
}

/**
 * MaxPool: X̄[p] = Σ_{o : p is the first maximal element of window o} ȳ[o].
 *
 * From opset 16 (`scatterToIndices`), ȳ is added at the forward node's
 * Indices. Before it, windows that tile the input (stride = kernel, the
 * common large-window case) are rearranged into rows (`tiledWindowsGradient`),
 * a graph of the same size for any window. Otherwise ScatterElements has no reduction='add', which
 * overlapping windows need, and on execution providers without MaxPool's Indices output
 * or ScatterElements (WebGPU, WebGL), the rule is built from comparisons: for
 * each kernel offset k (row-major), S_k = the strided slice of X padded with
 * zeros that window o reads at k; eq_k = ¬(S_k < Y) ∧ valid_k marks the
 * maxima, valid_k (a constant) leaving out the taps that fall in the padding;
 * the count of earlier maxima is a matrix product with a strictly
 * lower-triangular matrix over k, and first_k = relu(eq_k − earlier_k) keeps
 * the first one (all small integers, so exact). first ⊙ ȳ is sent back by a
 * ConvTranspose whose kernel is one-hot at k on input channel k.
 */
function maxPoolGradient(g: GradientContext): ReadonlyArray<string | undefined> {
  if (!g.needsGradient(0)) return [undefined];
  const w = maxPoolWindow(g);
  if (g.opset >= 16 && g.supports('maxPoolIndices') && g.supports('scatterAdd') && g.supports('expand')) return [scatterToIndices(g)];
  // Not on WebGL: no ArgMax there, and its Transpose of rank 2 + 2·d is untested.
  if (tilesInput(w) && g.supports('argExtremum')) return [tiledWindowsGradient(g, w)];
  const { dataType, shape: xShape } = g.input(0);
  const [n, c] = [xShape[0]!, xShape[1]!];
  const positions = sizeOf(w.outSizes);
  const taps = sizeOf(w.kernel);

  // Pad (with zeros, which `valid` masks out) so that every strided slice stays in range.
  const padsEnd = w.inSizes.map((input, a) =>
    Math.max(w.padsEnd[a]!, (w.kernel[a]! - 1) * w.dilations[a]! + w.outSizes[a]! * w.strides[a]! - w.padsBegin[a]! - input),
  );
  const padded = padWithZeros(g, g.inputName(0), w.padsBegin, padsEnd);
  const paddedShape = xShape.map((d, i) => (i < 2 ? d : d + w.padsBegin[i - 2]! + padsEnd[i - 2]!));

  const slices: string[] = [];
  forEachIndex(w.kernel, (k) => {
    const slice = stridedSlice(
      g,
      padded,
      paddedShape,
      k.map((kk, a) => kk * w.dilations[a]!),
      w.outSizes,
      w.strides,
    );
    slices.push(g.reshape(slice, [n, c, 1, positions]));
  });
  const windows = slices.length === 1 ? slices[0]! : g.op('Concat', slices, { axis: { int: 2 } });
  const y = g.reshape(g.outputName(0), [n, c, 1, positions]);
  const atMax = g.op('Cast', [g.op('Not', [g.op('Less', [windows, y])])], { to: { int: dataType } });
  const valid = tapValidity(w);
  const isMax = valid === undefined ? atMax : g.op('Mul', [atMax, g.literal(valid, [1, 1, taps, positions], dataType)]);
  let first = isMax;
  if (taps > 1) {
    const earlier = new Float64Array(taps * taps);
    for (let k = 0; k < taps; k++) for (let j = 0; j < k; j++) earlier[k * taps + j] = 1;
    const before = g.op('MatMul', [g.literal(earlier, [taps, taps], dataType), isMax]);
    first = g.op('Relu', [g.op('Sub', [isMax, before])]);
  }
  const routed = g.op('Mul', [first, g.reshape(g.dy(0)!, [n, c, 1, positions])]);
  const oneHot = new Float64Array(taps * taps);
  for (let k = 0; k < taps; k++) oneHot[k * taps + k] = 1;
  const weight = g.literal(oneHot, [taps, 1, ...w.kernel], dataType);
  return [scatterPlanes(g, g.reshape(routed, [n * c, taps, ...w.outSizes]), weight, w)];
}

/** Whether the windows tile the input from its start: stride = kernel, no dilation, no padding, no window past the end. */
function tilesInput(w: Window): boolean {
  return w.kernel.every(
    (k, a) => w.strides[a] === k && w.dilations[a] === 1 && w.padsBegin[a] === 0 && w.outSizes[a]! * k <= w.inSizes[a]!,
  );
}

/**
 * MaxPool with windows that tile the input (`tilesInput`), without Indices:
 * X (cut to the windows' extent) rearranged by Reshape and Transpose into
 * [N, C, windows, taps]; the first maximum of each row (`firstExtremumOneHot`,
 * row-major tap order as `evaluateMaxPool`) takes the window's ȳ; the
 * inverse rearrangement puts it back, and positions past the last window get
 * zeros. A fixed number of nodes and constants of the tap count, whatever the
 * window: the comparison rule below builds one Slice per tap and taps²
 * constants (a 32×32 window: a million-element constant).
 */
function tiledWindowsGradient(g: GradientContext, w: Window): string {
  const xShape = g.input(0).shape;
  const [n, c] = [xShape[0]!, xShape[1]!];
  const d = w.kernel.length;
  const extent = w.outSizes.map((o, a) => o * w.kernel[a]!);
  const axes = extent.map((_, a) => a + 2);
  const cut = extent.every((e, a) => e === w.inSizes[a])
    ? g.inputName(0)
    : emitSlice(g, g.inputName(0), new Array<number>(d).fill(0), extent, axes);
  const split = [n, c, ...w.outSizes.flatMap((o, a) => [o, w.kernel[a]!])];
  // [N, C, o₁, k₁, o₂, k₂, …] → [N, C, o₁, o₂, …, k₁, k₂, …]
  const perm = [0, 1, ...w.outSizes.map((_, a) => 2 + 2 * a), ...w.kernel.map((_, a) => 3 + 2 * a)];
  const rows = [n, c, sizeOf(w.outSizes), sizeOf(w.kernel)];
  const windows = g.reshape(g.op('Transpose', [g.reshape(cut, split)], { perm: { ints: perm } }), rows);
  const routed = g.op('Mul', [firstExtremumOneHot(g, windows, rows, 'max'), g.reshape(g.dy(0)!, [n, c, rows[2]!, 1])]);
  const grouped = g.reshape(routed, [n, c, ...w.outSizes, ...w.kernel]);
  const back = g.reshape(g.op('Transpose', [grouped], { perm: { ints: inversePermutation(perm) } }), [n, c, ...extent]);
  return emitPad(g, back, [0, 0, ...new Array<number>(d).fill(0), 0, 0, ...extent.map((e, a) => w.inSizes[a]! - e)]);
}

/**
 * X̄ = ScatterElements(0, Indices, ȳ, reduction='add') over X flattened:
 * Indices are flat over all of X (batch and channel included, row-major,
 * storage_order 0), so windows that share their maximum add up. It relies on
 * ONNX Runtime's Indices being the first maximum of each window in row-major
 * order, the choice `evaluateMaxPool` makes (compared with ONNX Runtime's on
 * ties in the tests). The zeros are an Expand of a scalar to the static size:
 * a tiny model where a literal would weigh X's size, exact where Mul(X, 0)
 * would give NaN for infinite inputs, and folded by ONNX Runtime once at load.
 */
function scatterToIndices(g: GradientContext): string {
  const { dataType, shape: xShape } = g.input(0);
  const count = sizeOf(g.output(0).shape);
  const indices = g.reshape(g.forwardOutput(1), [count]);
  const updates = g.reshape(g.dy(0)!, [count]);
  const zeros = g.op('Expand', [g.literal([0], [], dataType), g.literal([sizeOf(xShape)], [1], DataType.INT64)]);
  const summed = g.op('ScatterElements', [zeros, indices, updates], { axis: { int: 0 }, reduction: { string: 'add' } });
  return g.reshape(summed, xShape);
}

/**
 * valid[k, o] = 1 where kernel tap k (row-major) of window o (row-major)
 * lies inside the input, 0 where in the padding; undefined when every tap does.
 */
function tapValidity(w: Window): Float64Array | undefined {
  const positions = sizeOf(w.outSizes);
  const valid = new Float64Array(sizeOf(w.kernel) * positions);
  let allValid = true;
  forEachIndex(w.kernel, (k, tap) => {
    forEachIndex(w.outSizes, (o, position) => {
      const inside = o.every((oa, a) => {
        const i = oa * w.strides[a]! + k[a]! * w.dilations[a]! - w.padsBegin[a]!;
        return i >= 0 && i < w.inSizes[a]!;
      });
      valid[tap * positions + position] = inside ? 1 : 0;
      allValid &&= inside;
    });
  });
  return allValid ? undefined : valid;
}

/** Pads the spatial axes of `input` with zeros, in the Pad form of the model's opset. */
function padWithZeros(g: GradientContext, input: string, begin: readonly number[], end: readonly number[]): string {
  return emitPad(g, input, [0, 0, ...begin, 0, 0, ...end]);
}

/**
 * input[..., start + i·step, ...] for i < count on each spatial axis: Slice
 * with steps from opset 10 where the execution provider has them; else (before opset 10,
 * or on WebGL) a Slice of count·step elements split into [count, step] whose
 * first column is kept (the input must reach that far).
 */
function stridedSlice(
  g: GradientContext,
  input: string,
  shape: readonly number[],
  starts: readonly number[],
  counts: readonly number[],
  steps: readonly number[],
): string {
  const axes = starts.map((_, a) => a + 2);
  if (g.opset >= 10 && (g.supports('sliceSteps') || steps.every((s) => s === 1))) {
    const ends = starts.map((s, a) => s + (counts[a]! - 1) * steps[a]! + 1);
    return emitSlice(g, input, starts, ends, axes, steps);
  }
  const sliceAxis = (value: string, start: number, end: number, axis: number): string => emitSlice(g, value, [start], [end], [axis]);
  let current = input;
  const currentShape = [...shape];
  starts.forEach((start, a) => {
    const axis = a + 2;
    const [count, step] = [counts[a]!, steps[a]!];
    current = sliceAxis(current, start, start + count * step, axis);
    currentShape[axis] = count * step;
    if (step > 1) {
      const split = [...currentShape.slice(0, axis), count, step, ...currentShape.slice(axis + 1)];
      current = sliceAxis(g.reshape(current, split), 0, 1, axis + 1);
      currentShape[axis] = count;
      current = g.reshape(current, currentShape);
    }
  });
  return current;
}

/**
 * AveragePool: X̄ = ConvTranspose(ȳ / count, ones) over the same window, per
 * channel plane: each input position gets ȳ[o] / count[o] from every window o
 * that covers it (count folded from the static shapes, count_include_pad).
 */
function averagePoolGradient(g: GradientContext): ReadonlyArray<string | undefined> {
  if (!g.needsGradient(0)) return [undefined];
  const { w, counts } = averagePoolSetup(g);
  const { dataType, shape: xShape } = g.input(0);
  const planes = xShape[0]! * xShape[1]!;
  const uniform = counts.every((v) => v === counts[0]);
  const inverse = uniform
    ? g.literal([1 / counts[0]!], [], dataType)
    : g.literal(
        Array.from(counts, (v) => 1 / v),
        [1, 1, ...w.outSizes],
        dataType,
      );
  const scaled = g.op('Mul', [g.dy(0)!, inverse]);
  const ones = g.literal(new Float64Array(sizeOf(w.kernel)).fill(1), [1, 1, ...w.kernel], dataType);
  return [scatterPlanes(g, g.reshape(scaled, [planes, 1, ...w.outSizes]), ones, w)];
}

function globalShape(ctx: NodeContext): number[] {
  const x = ctx.input(0).shape;
  if (x.length < 3) ctx.fail(`input X of rank ${x.length} has no spatial axis`);
  return x.map((d, i) => (i < 2 ? d : 1));
}

/** Reduces each [N, C] plane of X with `fn` over its spatial values. */
function evaluateGlobal(ctx: NodeContext, fn: (plane: Float64Array) => number): ConstTensor[] | undefined {
  const x = ctx.constant(0);
  if (x === undefined) return undefined;
  const shape = globalShape(ctx);
  const planes = x.dims[0]! * x.dims[1]!;
  const size = x.values.length / planes;
  const y = Float64Array.from({ length: planes }, (_, p) => fn(x.values.subarray(p * size, (p + 1) * size)));
  return [constTensor(x.dataType, shape, y)];
}

const poolType = (ctx: NodeContext, shape: number[]): TensorType => ({ dataType: ctx.input(0).dataType, shape });

export const POOLING_OPS: readonly OpDefinition[] = [
  {
    opType: 'MaxPool',
    inferTypes: (ctx) => {
      const shape = pooledShape(ctx, maxPoolWindow(ctx));
      return [poolType(ctx, shape), { dataType: DataType.INT64, shape }];
    },
    evaluate: evaluateMaxPool,
    gradient: maxPoolGradient,
  },
  {
    opType: 'AveragePool',
    inferTypes: (ctx) => [poolType(ctx, pooledShape(ctx, averagePoolSetup(ctx).w))],
    evaluate: evaluateAveragePool,
    gradient: averagePoolGradient,
  },
  {
    opType: 'GlobalAveragePool',
    inferTypes: (ctx) => [poolType(ctx, globalShape(ctx))],
    evaluate: (ctx) => evaluateGlobal(ctx, (plane) => plane.reduce((s, v) => s + v, 0) / plane.length),
    /** X̄ = ȳ / size(spatial), broadcast over the spatial axes by a Mul with a constant. */
    gradient: (g) => {
      if (!g.needsGradient(0)) return [undefined];
      const { dataType, shape } = g.input(0);
      const spatial = shape.slice(2);
      const size = sizeOf(spatial);
      return [g.op('Mul', [g.dy(0)!, g.literal(new Float64Array(size).fill(1 / size), [1, 1, ...spatial], dataType)])];
    },
  },
  {
    opType: 'GlobalMaxPool',
    inferTypes: (ctx) => [poolType(ctx, globalShape(ctx))],
    evaluate: (ctx) => evaluateGlobal(ctx, (plane) => plane.reduce((m, v) => Math.max(m, v), -Infinity)),
    /**
     * X̄ = ȳ at the first maximal spatial position of each plane (row-major;
     * before opset 12, where ArgMax has no select_last_index, ONNX Runtime
     * also returns the first).
     */
    gradient: (g) => {
      if (!g.needsGradient(0)) return [undefined];
      const { shape } = g.input(0);
      const [n, c] = [shape[0]!, shape[1]!];
      const size = sizeOf(shape.slice(2));
      const flat = g.reshape(g.inputName(0), [n, c, size]);
      const oneHot = firstExtremumOneHot(g, flat, [n, c, size], 'max');
      const routed = g.op('Mul', [oneHot, g.reshape(g.dy(0)!, [n, c, 1])]);
      return [g.reshape(routed, shape)];
    },
  },
];
