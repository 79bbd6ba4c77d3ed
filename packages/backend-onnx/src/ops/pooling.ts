import { sizeOf } from '@saliency/core';
import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import { emitPad, emitSlice, inversePermutation } from './layout.js';
import { firstExtremumOneHot } from './first-extremum.js';
import type { GradientContext, NodeContext, OpDefinition, TensorType } from './op-definition.js';
import { forEachIndex, stridesOf } from './tensor-math.js';
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
 * common large-window case) are rearranged into rows (`tiledWindowsGradient`).
 * Otherwise ScatterElements has no reduction='add', which overlapping windows
 * need, and on execution providers without MaxPool's Indices output or
 * ScatterElements (WebGPU, WebGL) the windows are read out by comparisons
 * (`windowTapsGradient`). Each is a graph of the same size for any window.
 */
function maxPoolGradient(g: GradientContext): ReadonlyArray<string | undefined> {
  if (!g.needsGradient(0)) return [undefined];
  const w = maxPoolWindow(g);
  if (g.opset >= 16 && g.supports('maxPoolIndices') && g.supports('scatterAdd') && g.supports('expand')) return [scatterToIndices(g)];
  // Not on WebGL: no ArgMax there, and its Transpose of rank 2 + 2·d is untested.
  if (tilesInput(w) && g.supports('argExtremum')) return [tiledWindowsGradient(g, w)];
  return [windowTapsGradient(g, w)];
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
  const summed = g.op('ScatterElements', [zeros, indices, updates], {
    axis: { int: 0 },
    reduction: { string: 'add' },
  });
  return g.reshape(summed, xShape);
}

/**
 * MaxPool's gradient for any window, from each window's first maximal tap:
 * node count and constants do not grow with the tap count T (d Gathers or
 * d index decodings, and d ConvTransposes, for d spatial axes; constants of
 * o_a·k_a and k_a² elements per axis). `first` [N, C, T, P] is 1 at the first
 * maximal tap (row-major over the kernel) of each of the P windows; ȳ goes
 * there, and back to X one axis at a time (`sendBackOverWindows`).
 * Intermediate tensors hold T × |Y| values.
 */
function windowTapsGradient(g: GradientContext, w: Window): string {
  const xShape = g.input(0).shape;
  const [n, c] = [xShape[0]!, xShape[1]!];
  const positions = sizeOf(w.outSizes);
  const first = g.opset >= 8 && g.supports('maxPoolIndices') ? firstTapOfIndices(g, w) : firstTapByComparison(g, w);
  const routed = g.op('Mul', [first, g.reshape(g.dy(0)!, [n, c, 1, positions])]);
  return sendBackOverWindows(g, routed, w);
}

/** 0/1 [N, C, T, P] of X's type: 1 where the tap index `tap` [N, C, 1, P] (int64) is t. */
function oneHotOfTap(g: GradientContext, tap: string, taps: number): string {
  const range = g.literal(
    Array.from({ length: taps }, (_, t) => t),
    [taps, 1],
    DataType.INT64,
  );
  return g.op('Cast', [g.op('Equal', [tap, range])], {
    to: { int: g.input(0).dataType },
  });
}

/**
 * The first maximal tap from the forward node's Indices (the first maximum
 * in row-major window order, the tie rule of docs/methods.md, as
 * `scatterToIndices` relies on): per spatial axis a, the input coordinate
 * i_a = ⌊Indices / stride_a⌋ mod in_a, the tap k_a = (i_a − (o_a·s_a − pad_a)) / d_a,
 * and the flat tap Σ k_a·T_a, all int64 of Y's size.
 */
function firstTapOfIndices(g: GradientContext, w: Window): string {
  const xShape = g.input(0).shape;
  const [n, c] = [xShape[0]!, xShape[1]!];
  const d = w.kernel.length;
  const int = (value: number) => g.literal([value], [], DataType.INT64);
  const indices = g.reshape(g.forwardOutput(1), [n, c, ...w.outSizes]);
  const inStrides = stridesOf(w.inSizes);
  const tapStrides = stridesOf(w.kernel);
  let tap: string | undefined;
  w.kernel.forEach((k, a) => {
    if (k === 1) return;
    const quotient = inStrides[a] === 1 ? indices : g.op('Div', [indices, int(inStrides[a]!)]);
    const coordinate = g.op('Sub', [quotient, g.op('Mul', [g.op('Div', [quotient, int(w.inSizes[a]!)]), int(w.inSizes[a]!)])]);
    const origins = Array.from({ length: w.outSizes[a]! }, (_, o) => o * w.strides[a]! - w.padsBegin[a]!);
    const along = new Array<number>(d).fill(1);
    along[a] = w.outSizes[a]!;
    let offset = g.op('Sub', [coordinate, g.literal(origins, along, DataType.INT64)]);
    if (w.dilations[a] !== 1) offset = g.op('Div', [offset, int(w.dilations[a]!)]);
    const term = tapStrides[a] === 1 ? offset : g.op('Mul', [offset, int(tapStrides[a]!)]);
    tap = tap === undefined ? term : g.op('Add', [tap, term]);
  });
  const taps = sizeOf(w.kernel);
  const flat = tap === undefined ? g.op('Mul', [indices, int(0)]) : tap;
  return oneHotOfTap(g, g.reshape(flat, [n, c, 1, sizeOf(w.outSizes)]), taps);
}

/**
 * The first maximal tap by comparisons, where the forward has no Indices
 * (WebGPU, WebGL, opset 7): a Gather along each spatial axis a, with the
 * constant table of the input position that window o_a reads at tap k_a,
 * gives every window's values G [N, C, o₁, k₁, …, o_d, k_d] (taps in the
 * padding read position 0 and are masked out); eq = ¬(G < Y), times the
 * per-axis validity of the taps, marks each window's maxima. Rearranged to
 * [N, C, T, P], the first 1 over T is ArgMax's (the first maximum); WebGL,
 * without ArgMax, keeps the 1s with no 1 before them: relu of a MatMul with
 * the T × T constant I − L, L strictly lower-triangular ones (small integers:
 * exact).
 */
function firstTapByComparison(g: GradientContext, w: Window): string {
  const { dataType, shape: xShape } = g.input(0);
  const [n, c] = [xShape[0]!, xShape[1]!];
  const d = w.kernel.length;
  let windows = g.inputName(0);
  const masks: string[] = [];
  w.kernel.forEach((k, a) => {
    const o = w.outSizes[a]!;
    const read = new Float64Array(o * k);
    const valid = new Float64Array(o * k);
    for (let oa = 0; oa < o; oa++) {
      for (let ka = 0; ka < k; ka++) {
        const i = oa * w.strides[a]! + ka * w.dilations[a]! - w.padsBegin[a]!;
        const inside = i >= 0 && i < w.inSizes[a]!;
        read[oa * k + ka] = inside ? i : 0;
        valid[oa * k + ka] = inside ? 1 : 0;
      }
    }
    // After the axes before a, axis a of X is at 2 + 2a: [N, C, o₁, k₁, …, o_a−1, k_a−1, in_a, …].
    windows = g.op('Gather', [windows, g.literal(read, [o, k], DataType.INT64)], { axis: { int: 2 + 2 * a } });
    if (valid.includes(0)) {
      const shape = new Array<number>(2 + 2 * d).fill(1);
      [shape[2 + 2 * a], shape[3 + 2 * a]] = [o, k];
      masks.push(g.literal(valid, shape, dataType));
    }
  });
  const y = g.reshape(g.outputName(0), [n, c, ...w.outSizes.flatMap((o) => [o, 1])]);
  let atMax = g.op('Cast', [g.op('Not', [g.op('Less', [windows, y])])], {
    to: { int: dataType },
  });
  for (const mask of masks) atMax = g.op('Mul', [atMax, mask]);
  // [N, C, o₁, k₁, o₂, k₂, …] → [N, C, k₁, k₂, …, o₁, o₂, …]
  const perm = [0, 1, ...w.kernel.map((_, a) => 3 + 2 * a), ...w.outSizes.map((_, a) => 2 + 2 * a)];
  const taps = sizeOf(w.kernel);
  const columns = g.reshape(g.op('Transpose', [atMax], { perm: { ints: perm } }), [n, c, taps, sizeOf(w.outSizes)]);
  if (g.supports('argExtremum')) {
    const tap = g.op('ArgMax', [columns], {
      axis: { int: 2 },
      keepdims: { int: 1 },
      ...(g.opset >= 12 ? { select_last_index: { int: 0 } } : {}),
    });
    return oneHotOfTap(g, tap, taps);
  }
  if (taps === 1) return columns;
  // relu(eq_k − Σ_{j<k} eq_j) as one MatMul with I − L: the WebGL EP misreads an element-wise op's operand that is a Reshape (`columns`).
  const firstOfColumn = new Float64Array(taps * taps);
  for (let k = 0; k < taps; k++) {
    firstOfColumn[k * taps + k] = 1;
    for (let j = 0; j < k; j++) firstOfColumn[k * taps + j] = -1;
  }
  return g.op('Relu', [g.op('MatMul', [g.literal(firstOfColumn, [taps, taps], dataType), columns])]);
}

/**
 * X̄ from `routed` [N, C, T, P] (each window's ȳ at its taps): the sum over
 * the windows that read each input position, one spatial axis at a time,
 * last axis first: a ConvTranspose with the k_a taps of axis a as its input
 * channels and a kernel one-hot at k_a on channel k_a, the taps of the axes
 * before a in the batch.
 */
function sendBackOverWindows(g: GradientContext, routed: string, w: Window): string {
  const { dataType, shape: xShape } = g.input(0);
  const [n, c] = [xShape[0]!, xShape[1]!];
  let current = routed;
  const spatial = [...w.outSizes];
  for (let a = w.kernel.length - 1; a >= 0; a--) {
    const k = w.kernel[a]!;
    const only = (value: number, elsewhere: number) => spatial.map((_, b) => (b === a ? value : elsewhere));
    const axisWindow: Window = {
      inSizes: spatial.map((size, b) => (b === a ? w.inSizes[a]! : size)),
      kernel: only(k, 1),
      strides: only(w.strides[a]!, 1),
      dilations: only(w.dilations[a]!, 1),
      padsBegin: only(w.padsBegin[a]!, 0),
      padsEnd: only(w.padsEnd[a]!, 0),
      outSizes: [...spatial],
    };
    const oneHot = new Float64Array(k * k);
    for (let j = 0; j < k; j++) oneHot[j * k + j] = 1;
    const input = g.reshape(current, [n * c * sizeOf(w.kernel.slice(0, a)), k, ...spatial]);
    current = transposeWindow(g, input, g.literal(oneHot, [k, 1, ...only(k, 1)], dataType), axisWindow, 1);
    spatial[a] = w.inSizes[a]!;
  }
  return g.reshape(current, xShape);
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

const poolType = (ctx: NodeContext, shape: number[]): TensorType => ({
  dataType: ctx.input(0).dataType,
  shape,
});

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
