import { sizeOf } from '@saliency/core';
import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import type { GradientContext, GradientRule, NodeContext, OpDefinition, TensorType } from './op-definition.js';
import { forEachIndex, stridesOf } from './tensor-math.js';
import { spatialInts, transposeWindow, windowAttributes, windowOf, windowTaps, type Window } from './window.js';

/** X [N, C, spatial…] and W of the same rank, as both convolutions take them, and the group. */
function convOperands(ctx: NodeContext) {
  const x = ctx.input(0).shape;
  const weight = ctx.input(1).shape;
  if (x.length < 3) ctx.fail(`input X of rank ${x.length} has no spatial axis`);
  if (weight.length !== x.length) ctx.fail(`W has rank ${weight.length}, X rank ${x.length}`);
  return { x, weight, n: x[0]!, c: x[1]!, group: ctx.attributes.int('group', 1) };
}

/** W's kernel, checked against the kernel_shape attribute, and B checked to be [m]. */
function kernelOf(ctx: NodeContext, weight: readonly number[], m: number): number[] {
  const kernel = weight.slice(2);
  const declared = ctx.attributes.ints('kernel_shape');
  if (declared !== undefined && declared.join() !== kernel.join()) ctx.fail(`kernel_shape [${declared}] differs from W's [${kernel}]`);
  if (ctx.hasInput(2) && (ctx.input(2).shape.length !== 1 || ctx.input(2).shape[0] !== m)) ctx.fail(`B must have shape [${m}]`);
  return kernel;
}

/** Conv's operands: X [N, C, spatial…], W [M, C/group, kernel…], optional B [M]. */
function convShapes(ctx: NodeContext) {
  const { x, weight, n, c, group } = convOperands(ctx);
  const m = weight[0]!;
  if (!(group >= 1) || c % group !== 0 || m % group !== 0 || weight[1]! * group !== c) {
    ctx.fail(`group ${group} does not fit X with ${c} channels and W of shape [${weight.join(', ')}]`);
  }
  const window = windowOf(ctx, x.slice(2), kernelOf(ctx, weight, m), 'conv');
  return { n, c, m, group, window, outShape: [n, m, ...window.outSizes] };
}

/** ConvTranspose's operands: X [N, C, spatial…], W [C, M/group, kernel…], optional B [M]. */
function convTransposeShapes(ctx: NodeContext) {
  const { x, weight, n, c, group } = convOperands(ctx);
  const rank = x.length - 2;
  if (!(group >= 1) || weight[0] !== c || c % group !== 0)
    ctx.fail(`group ${group} does not fit X with ${c} channels and W of shape [${weight.join(', ')}]`);
  const m = weight[1]! * group;
  const kernel = kernelOf(ctx, weight, m);
  const inSizes = x.slice(2);
  const strides = spatialInts(ctx, 'strides', rank, 1);
  const dilations = spatialInts(ctx, 'dilations', rank, 1);
  const outputPadding = spatialInts(ctx, 'output_padding', rank, 0);
  const pads = ctx.attributes.ints('pads', new Array<number>(2 * rank).fill(0));
  if (pads.length !== 2 * rank) ctx.fail(`attribute pads has ${pads.length} values for ${rank} spatial axes`);
  const autoPad = ctx.attributes.string('auto_pad', 'NOTSET') || 'NOTSET';
  if (!['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'].includes(autoPad)) {
    ctx.fail(`auto_pad "${autoPad}" is not supported; allowed: NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
  }
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    ctx.fail(
      `auto_pad ${autoPad} is not supported (runtimes disagree on where its padding goes); allowed: NOTSET, VALID, or explicit output_shape`,
    );
  }
  const outputShape = ctx.attributes.ints('output_shape');
  if (outputShape !== undefined && outputShape.length !== rank)
    ctx.fail(`output_shape [${outputShape}] must give the ${rank} spatial sizes`);
  const padsBegin: number[] = [];
  const padsEnd: number[] = [];
  const outSizes: number[] = [];
  for (let a = 0; a < rank; a++) {
    const s = strides[a]!;
    const d = dilations[a]!;
    const full = s * (inSizes[a]! - 1) + outputPadding[a]! + (kernel[a]! - 1) * d + 1;
    if (outputShape !== undefined) {
      const target = outputShape[a]!;
      const total = full - target;
      if (total < 0) ctx.fail(`output_shape [${outputShape}] is larger than the full transposed output on spatial axis ${a}`);
      // The spec's split for NOTSET and SAME_LOWER: the odd unit of padding goes first.
      padsBegin.push(total - Math.floor(total / 2));
      padsEnd.push(Math.floor(total / 2));
    } else {
      const [begin, end] = autoPad === 'VALID' ? [0, 0] : [pads[a]!, pads[a + rank]!];
      if (begin < 0 || end < 0) ctx.fail(`negative pads [${pads}] are not supported`);
      padsBegin.push(begin);
      padsEnd.push(end);
    }
    const out = full - padsBegin[a]! - padsEnd[a]!;
    if (out < 1) ctx.fail(`the output would be empty on spatial axis ${a}`);
    if (outputPadding[a]! >= s) ctx.fail(`output_padding [${outputPadding}] must be less than strides [${strides}]`);
    outSizes.push(out);
  }
  // As a Conv over the output, the window reads the output positions o·s + k·d − pb for input o.
  const window: Window = { inSizes: outSizes, kernel, strides, dilations, padsBegin, padsEnd, outSizes: inSizes };
  return { n, c, m, group, window, outShape: [n, m, ...outSizes] };
}

/**
 * The windowed sum of Conv and of ConvTranspose, each the other's adjoint:
 * for every image, every channel d of the "dense" tensor D [N, dense, P]
 * (a position per output position of `w`), every channel t of d's group in
 * the "tapped" tensor T [N, tapped, `w.inSizes`…], and every position o and
 * kernel offset k whose tap p = taps[o][k] lies inside, `add(D index, T index,
 * W index)` (flat), W of shape [dense, tapped/group, kernel…]. Conv: D = Y,
 * T = X; ConvTranspose: D = X, T = Y.
 */
function forEachWindowTerm(
  n: number,
  dense: number,
  tapped: number,
  group: number,
  w: Window,
  add: (d: number, t: number, k: number) => void,
): void {
  const taps = windowTaps(w);
  const tappedSize = sizeOf(w.inSizes);
  const kSize = sizeOf(w.kernel);
  const [dg, tg] = [dense / group, tapped / group];
  for (let b = 0; b < n; b++) {
    for (let d = 0; d < dense; d++) {
      const g = Math.floor(d / dg);
      for (let t = 0; t < tg; t++) {
        const dBase = (b * dense + d) * taps.length;
        const tBase = (b * tapped + g * tg + t) * tappedSize;
        const wBase = (d * tg + t) * kSize;
        for (let o = 0; o < taps.length; o++) {
          const row = taps[o]!;
          for (let k = 0; k < kSize; k++) if (row[k]! >= 0) add(dBase + o, tBase + row[k]!, wBase + k);
        }
      }
    }
  }
}

/**
 * In float64: Conv, y[n, m, o] = B[m] + Σ_{c in m's group, k} X[n, c, o·s + k·d − pb] · W[m, c, k];
 * ConvTranspose, y[n, m, i·s + k·d − pb] += X[n, c, i] · W[c, m − group offset, k] for c in m's group, plus B[m].
 */
function evaluateConvolution(ctx: NodeContext): ConstTensor[] | undefined {
  const x = ctx.constant(0);
  const weight = ctx.constant(1);
  const bias = ctx.hasInput(2) ? ctx.constant(2) : undefined;
  if (x === undefined || weight === undefined || (ctx.hasInput(2) && bias === undefined)) return undefined;
  const transpose = ctx.node.opType === 'ConvTranspose';
  const { n, c, m, group, window, outShape } = transpose ? convTransposeShapes(ctx) : convShapes(ctx);
  const y = new Float64Array(sizeOf(outShape));
  const plane = sizeOf(outShape.slice(2));
  if (bias !== undefined) for (let p = 0; p < n * m; p++) y.fill(bias.values[p % m]!, p * plane, (p + 1) * plane);
  const [xs, ws] = [x.values, weight.values];
  if (transpose) forEachWindowTerm(n, c, m, group, window, (i, o, k) => (y[o]! += xs[i]! * ws[k]!));
  else forEachWindowTerm(n, m, c, group, window, (o, i, k) => (y[o]! += xs[i]! * ws[k]!));
  return [constTensor(x.dataType, outShape, y)];
}

/**
 * A convolution's rule: X̄ = `inputGradient(g, ȳ)` where X needs one, B̄ by
 * `biasGradient`; W̄ is not supported (weights are constants).
 */
function convolutionGradient(inputGradient: (g: GradientContext, dy: string) => string): GradientRule {
  return (g) => {
    if (g.needsGradient(1)) g.fail('W depends on the model input; the gradient of convolution weights is not supported');
    const dy = g.dy(0)!;
    return [g.needsGradient(0) ? inputGradient(g, dy) : undefined, undefined, biasGradient(g, dy)];
  };
}

/** B̄[m] = Σ_{n, o} ȳ[n, m, o]. */
function biasGradient(g: GradientContext, dy: string): string | undefined {
  if (!g.hasInput(2) || !g.needsGradient(2)) return undefined;
  const rank = g.output(0).shape.length;
  return g.reduce('ReduceSum', dy, g.output(0).shape, [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)], false);
}

/** W when it is known at build time and float32/float64 (the kernels below are rearranged at build time), else undefined. */
function floatWeight(g: GradientContext): ConstTensor | undefined {
  const weight = g.constant(1);
  return weight !== undefined && (weight.dataType === DataType.FLOAT || weight.dataType === DataType.DOUBLE) ? weight : undefined;
}

/**
 * The kernel of a Conv over ȳ from Conv's W [M, C/G, K…]: its two channel
 * axes swapped within each group and, on each spatial axis a, the offsets
 * `taps[a]` of W picked in order, W'[g·C/G + c, m, t…] = W[g·M/G + m, c, taps[a][t_a]…],
 * of shape [C, M/G, |taps[a]|…].
 */
function adjointKernel(weight: ConstTensor, shapes: ReturnType<typeof convShapes>, taps: ReadonlyArray<readonly number[]>): Float64Array {
  const { c, m, group, window: w } = shapes;
  const [cg, mg] = [c / group, m / group];
  const kStrides = stridesOf(w.kernel);
  const sizes = taps.map((t) => t.length);
  const tSize = sizeOf(sizes);
  // Flat offset into one [K…] kernel plane of each tap position of the new kernel.
  const from = new Int32Array(tSize);
  forEachIndex(sizes, (t, flat) => {
    from[flat] = t.reduce((offset, ta, a) => offset + taps[a]![ta]! * kStrides[a]!, 0);
  });
  const kSize = sizeOf(w.kernel);
  const values = new Float64Array(c * mg * tSize);
  for (let gi = 0; gi < group; gi++) {
    for (let mi = 0; mi < mg; mi++) {
      for (let ci = 0; ci < cg; ci++) {
        const source = ((gi * mg + mi) * cg + ci) * kSize;
        const target = ((gi * cg + ci) * mg + mi) * tSize;
        for (let t = 0; t < tSize; t++) values[target + t] = weight.values[source + from[t]!]!;
      }
    }
  }
  return values;
}

/**
 * X̄ of a stride-1 Conv with constant weights as an ordinary Conv of ȳ: the
 * adjoint of a stride-1 correlation is the correlation with the kernel
 * flipped along every spatial axis and its two channel axes swapped within
 * each group, W'[g·C/G + c, m, κ] = W[g·M/G + m, c, K − 1 − κ] of shape
 * [C, M/G, k…], with the same group and dilations and pads (k − 1)·d − p on
 * each side. ONNX Runtime's CPU Conv runs this about twice as fast as the
 * equivalent ConvTranspose. Returns undefined where it does not apply: a
 * stride above 1, a pad that would be negative (p > (k − 1)·d), weights not
 * known at build time or not float32/float64.
 */
function flippedKernelConv(g: GradientContext, dy: string, shapes: ReturnType<typeof convShapes>): string | undefined {
  const { c, m, group, window: w } = shapes;
  if (w.strides.some((s) => s !== 1)) return undefined;
  const weight = floatWeight(g);
  if (weight === undefined) return undefined;
  const extents = w.kernel.map((k, a) => (k - 1) * w.dilations[a]!);
  const padsBegin = extents.map((e, a) => e - w.padsBegin[a]!);
  const padsEnd = extents.map((e, a) => e - w.padsEnd[a]!);
  if ([...padsBegin, ...padsEnd].some((p) => p < 0)) return undefined;
  // Stride 1: out = in + pb + pe − e, so out + pb' + pe' − e = in.
  const dxSizes = w.outSizes.map((o, a) => o + padsBegin[a]! + padsEnd[a]! - extents[a]!);
  if (dxSizes.join() !== w.inSizes.join()) g.fail(`the flipped-kernel Conv gives spatial sizes [${dxSizes}], not X's [${w.inSizes}]`);
  const flipped = adjointKernel(
    weight,
    shapes,
    w.kernel.map((k) => Array.from({ length: k }, (_, t) => k - 1 - t)),
  );
  const kernel = g.literal(flipped, [c, m / group, ...w.kernel], weight.dataType);
  return g.op('Conv', [dy, kernel], windowAttributes(w, group, [...padsBegin, ...padsEnd]));
}

/**
 * Below this many ȳ positions per image, the sub-pixel form beats ONNX
 * Runtime's CPU ConvTranspose (which runs one GEMM per image, as narrow as
 * the image's positions); from about 8×8 on it is as fast or slower, and far
 * slower for few input channels (a stem's 3). Measured at one thread on
 * ResNet-18, MobileNetV2 and EfficientNet-B0 layers.
 */
const SUB_PIXEL_MAX_POSITIONS = 63;

/**
 * X̄ of a 2-D Conv with stride s > 1 on both axes and constant weights as s²
 * stride-1 Convs of ȳ, one per output phase, interleaved by DepthToSpace.
 * Per axis, X̄[s·b + ρ] = Σ_j ȳ[b + δ − j] · W[r + s·j] with r = (ρ + p) mod s,
 * δ = (ρ + p − r) / s and j < J = ⌈(K − r) / s⌉: a correlation of ȳ with the
 * taps r + s·(J − 1 − t), t < J, pads J − 1 − δ before and whatever gives
 * B ≥ ⌈in / s⌉ blocks after. The phases go on the channel axis phase-major
 * (ρ_h·s + ρ_w), which is DepthToSpace's DCR order; a Slice keeps the first
 * `in` positions. Returns undefined where it does not apply: not 2-D, unequal
 * strides or stride 1, dilations, a kernel narrower than the stride (a phase
 * without taps), a phase whose begin pad would be negative (it reads ȳ
 * ahead: δ ≥ J, as for 3×3 stride 3 pad 1), opset below 11, weights not
 * constant float32/float64, or ȳ with more than SUB_PIXEL_MAX_POSITIONS
 * positions per image.
 */
function subPixelConv(g: GradientContext, dy: string, shapes: ReturnType<typeof convShapes>): string | undefined {
  const { c, m, group, window: w } = shapes;
  const s = w.strides[0]!;
  if (w.kernel.length !== 2 || s === 1 || w.strides.some((v) => v !== s) || g.opset < 11) return undefined;
  if (w.dilations.some((d) => d !== 1) || w.kernel.some((k) => k < s) || sizeOf(w.outSizes) > SUB_PIXEL_MAX_POSITIONS) return undefined;
  const weight = floatWeight(g);
  if (weight === undefined) return undefined;
  const blocks: number[] = [];
  const phases = w.inSizes.map((size, a) => {
    const [p, k, out] = [w.padsBegin[a]!, w.kernel[a]!, w.outSizes[a]!];
    const perPhase = Array.from({ length: s }, (_, rho) => {
      const r = (rho + p) % s;
      const shift = (rho + p - r) / s;
      const taps = Math.ceil((k - r) / s);
      return { taps: Array.from({ length: taps }, (_, t) => r + s * (taps - 1 - t)), begin: taps - 1 - shift, shift };
    });
    // Enough blocks for X and for every phase's end pad (out + begin + end − taps + 1 = blocks) to be ≥ 0.
    const count = Math.max(Math.ceil(size / s), ...perPhase.map((ph) => out - ph.shift));
    blocks.push(count);
    return perPhase.map((ph) => ({ ...ph, end: count - out - ph.begin + ph.taps.length - 1 }));
  });
  if (phases.flat().some((ph) => ph.begin < 0)) return undefined;
  const parts: string[] = [];
  for (const ph of phases[0]!) {
    for (const pw of phases[1]!) {
      const kernel = [ph.taps.length, pw.taps.length];
      const values = adjointKernel(weight, shapes, [ph.taps, pw.taps]);
      parts.push(
        g.op('Conv', [dy, g.literal(values, [c, m / group, ...kernel], weight.dataType)], {
          group: { int: group },
          kernel_shape: { ints: kernel },
          pads: { ints: [ph.begin, pw.begin, ph.end, pw.end] },
        }),
      );
    }
  }
  const interleaved = g.op('DepthToSpace', [g.op('Concat', parts, { axis: { int: 1 } })], {
    blocksize: { int: s },
    mode: { string: 'DCR' },
  });
  if (blocks.every((b, a) => b * s === w.inSizes[a])) return interleaved;
  const int64 = (v: readonly number[]) => g.literal(v, [v.length], DataType.INT64);
  return g.op('Slice', [interleaved, int64([0, 0]), int64(w.inSizes), int64([2, 3])]);
}

/**
 * W for the ConvTranspose of X̄: the forward node's own weight, or, where the
 * execution provider cannot share a Conv's weight with another kernel (WebGL, whose Conv
 * keeps W's texture in its own [M, C·k] layout, which ConvTranspose's shader
 * then reads wrongly), a copy of it when it is known at build time.
 */
function transposeWeight(g: GradientContext): string {
  const weight = g.supports('sharedConvWeight') ? undefined : g.constant(1);
  return weight === undefined ? g.inputName(1) : g.literal(weight.values, weight.dims, weight.dataType);
}

const outputType = (ctx: NodeContext, shape: number[]): TensorType[] => [{ dataType: ctx.input(0).dataType, shape }];

export const CONVOLUTION_OPS: readonly OpDefinition[] = [
  {
    opType: 'Conv',
    inferTypes: (ctx) => outputType(ctx, convShapes(ctx).outShape),
    evaluate: evaluateConvolution,
    /**
     * X̄ = Conv(ȳ, W') with W' the flipped, channel-transposed kernel when
     * every stride is 1 and W is a constant (`flippedKernelConv`); s² such
     * Convs interleaved by DepthToSpace for a small 2-D ȳ with stride s on
     * both axes (`subPixelConv`); otherwise X̄ = ConvTranspose(ȳ, W) with Conv's group, strides, dilations and pads
     * (the adjoint of the windowed sum), output_padding making it X's shape.
     * B̄ = Σ_{n, spatial} ȳ; W̄ is not supported (weights are constants).
     */
    gradient: convolutionGradient((g, dy) => {
      const shapes = convShapes(g);
      return (
        flippedKernelConv(g, dy, shapes) ??
        subPixelConv(g, dy, shapes) ??
        transposeWindow(g, dy, transposeWeight(g), shapes.window, shapes.group)
      );
    }),
  },
  {
    opType: 'ConvTranspose',
    inferTypes: (ctx) => outputType(ctx, convTransposeShapes(ctx).outShape),
    evaluate: evaluateConvolution,
    /**
     * X̄ = Conv(ȳ, W) with the same group, strides, dilations and pads: the
     * adjoint of ConvTranspose (output_padding < stride, so the sizes match);
     * B̄ = Σ_{n, spatial} ȳ; W̄ is not supported.
     */
    gradient: convolutionGradient((g, dy) => {
      const { window, group } = convTransposeShapes(g);
      return g.op('Conv', [dy, g.inputName(1)], windowAttributes(window, group, [...window.padsBegin, ...window.padsEnd]));
    }),
  },
];
