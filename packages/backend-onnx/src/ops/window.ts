import { sizeOf } from '@saliency/core';
import type { AttributeValue } from '../model/attribute-value.js';
import { emitSlice } from './layout.js';
import type { GradientContext, NodeContext } from './op-definition.js';
import { forEachIndex, stridesOf } from './tensor-math.js';

/**
 * Geometry of a sliding window over the spatial axes (Conv, ConvTranspose's
 * transpose, the pools): output position o reads input positions
 * o·s + k·d − padsBegin for the kernel offsets k.
 */
export interface Window {
  readonly inSizes: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly padsBegin: readonly number[];
  readonly padsEnd: readonly number[];
  readonly outSizes: readonly number[];
}

/** A per-spatial-axis int attribute (strides, dilations, output_padding), `fallback` on every axis when omitted. */
export function spatialInts(ctx: NodeContext, name: string, rank: number, fallback: number): number[] {
  const values = ctx.attributes.ints(name, new Array<number>(rank).fill(fallback));
  if (values.length !== rank) ctx.fail(`attribute ${name} has ${values.length} values for ${rank} spatial axes`);
  return values;
}

/**
 * Window geometry of a Conv (`kind` 'conv') or a pool ('pool', which also
 * reads ceil_mode): auto_pad NOTSET (explicit pads), VALID, SAME_UPPER and
 * SAME_LOWER, as ONNX Runtime computes them. A ceil_mode window that would
 * start in the end padding is dropped (ONNX Runtime's and PyTorch's rule).
 */
export function windowOf(ctx: NodeContext, inSizes: readonly number[], kernel: readonly number[], kind: 'conv' | 'pool'): Window {
  const rank = inSizes.length;
  if (kernel.length !== rank) ctx.fail(`kernel_shape has ${kernel.length} values for ${rank} spatial axes`);
  const strides = spatialInts(ctx, 'strides', rank, 1);
  const dilations = spatialInts(ctx, 'dilations', rank, 1);
  const pads = ctx.attributes.ints('pads', new Array<number>(2 * rank).fill(0));
  if (pads.length !== 2 * rank) ctx.fail(`attribute pads has ${pads.length} values for ${rank} spatial axes`);
  if (![...strides, ...dilations, ...kernel].every((v) => Number.isInteger(v) && v >= 1)) {
    ctx.fail(`strides, dilations and kernel_shape must be positive integers (got [${strides}], [${dilations}], [${kernel}])`);
  }
  const ceilMode = kind === 'pool' ? ctx.attributes.int('ceil_mode', 0) : 0;
  if (ceilMode !== 0 && ceilMode !== 1) ctx.fail(`ceil_mode ${ceilMode} is not supported; allowed: 0, 1`);
  const autoPad = ctx.attributes.string('auto_pad', 'NOTSET') || 'NOTSET';
  const padsBegin: number[] = [];
  const padsEnd: number[] = [];
  const outSizes: number[] = [];
  for (let a = 0; a < rank; a++) {
    const input = inSizes[a]!;
    const s = strides[a]!;
    const extent = (kernel[a]! - 1) * dilations[a]! + 1;
    let begin: number;
    let end: number;
    switch (autoPad) {
      case 'NOTSET':
        begin = pads[a]!;
        end = pads[a + rank]!;
        if (begin < 0 || end < 0) ctx.fail(`negative pads [${pads}] are not supported`);
        break;
      case 'VALID':
        begin = 0;
        end = 0;
        break;
      case 'SAME_UPPER':
      case 'SAME_LOWER': {
        // ONNX Runtime refuses it for Conv and ignores the dilation in the padding of pools.
        if (dilations[a] !== 1) ctx.fail(`auto_pad ${autoPad} with dilations [${dilations}] is not supported; allowed with dilations of 1`);
        const target = Math.ceil(input / s);
        const total = (target - 1) * s + extent - input;
        if (total < 0)
          ctx.fail(
            `auto_pad ${autoPad} would need negative padding (stride ${s} larger than the kernel's extent ${extent}); this is not supported`,
          );
        begin = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
        end = total - begin;
        break;
      }
      default:
        ctx.fail(`auto_pad "${autoPad}" is not supported; allowed: NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
    }
    const span = input + begin! + end! - extent;
    let out = (ceilMode === 1 ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    if (ceilMode === 1 && (out - 1) * s >= input + begin!) out--;
    if (span < 0 || out < 1)
      ctx.fail(`the window (extent ${extent}) does not fit the padded input of size ${input + begin! + end!} on spatial axis ${a}`);
    padsBegin.push(begin!);
    padsEnd.push(end!);
    outSizes.push(out);
  }
  return { inSizes: [...inSizes], kernel: [...kernel], strides, dilations, padsBegin, padsEnd, outSizes };
}

/**
 * For each output position and kernel offset (both flat, row-major), the flat
 * spatial input position the window reads there, or −1 in the padding.
 */
export function windowTaps(w: Window): Int32Array[] {
  const inStrides = stridesOf(w.inSizes);
  const taps: Int32Array[] = [];
  forEachIndex(w.outSizes, (o) => {
    const row = new Int32Array(sizeOf(w.kernel));
    forEachIndex(w.kernel, (k, flat) => {
      let position = 0;
      for (let a = 0; a < o.length; a++) {
        const i = o[a]! * w.strides[a]! + k[a]! * w.dilations[a]! - w.padsBegin[a]!;
        if (i < 0 || i >= w.inSizes[a]! || position < 0) position = -1;
        else position += i * inStrides[a]!;
      }
      row[flat] = position;
    });
    taps.push(row);
  });
  return taps;
}

/**
 * Emits ConvTranspose(dy, weight) over the window `w`: it sends each output
 * position's values back to the input positions of its window, and gives
 * exactly the input's spatial shape. The end pads and output_padding are
 * chosen from the static shapes: positions past the last window get zeros.
 */
export function transposeWindow(g: GradientContext, dy: string, weight: string, w: Window, group: number): string {
  const padsEnd: number[] = [];
  const outputPadding: number[] = [];
  w.inSizes.forEach((input, a) => {
    const s = w.strides[a]!;
    const d = w.dilations[a]!;
    const covered = s * (w.outSizes[a]! - 1) + (w.kernel[a]! - 1) * d + 1 - w.padsBegin[a]!;
    const end = Math.max(covered - input, 0);
    const padding = end - (covered - input);
    if (padding > 0 && padding >= s && padding >= d) {
      g.fail(
        `the gradient needs a ConvTranspose output_padding of ${padding} on spatial axis ${a}, not less than its stride ${s} or dilation ${d}`,
      );
    }
    padsEnd.push(end);
    outputPadding.push(padding);
    const size = s * (w.outSizes[a]! - 1) + padding + (w.kernel[a]! - 1) * d + 1 - w.padsBegin[a]! - end;
    if (size !== input) g.fail(`the gradient's ConvTranspose gives size ${size} on spatial axis ${a}, not the input's ${input}`);
  });
  const padding = outputPadding.some((p) => p > 0) ? { output_padding: { ints: outputPadding } } : {};
  if (g.supports('asymmetricConvTransposePads') || w.padsBegin.every((p, a) => p === padsEnd[a])) {
    return g.op('ConvTranspose', [dy, weight], { ...windowAttributes(w, group, [...w.padsBegin, ...padsEnd]), ...padding });
  }
  // The same values from pads min(begin, end) at both ends, the surplus cut by a Slice: the output with
  // pads [p, p] starts begin − p positions earlier and, with the same output_padding, reaches at least as far.
  const pads = w.padsBegin.map((p, a) => Math.min(p, padsEnd[a]!));
  const wide = g.op('ConvTranspose', [dy, weight], { ...windowAttributes(w, group, [...pads, ...pads]), ...padding });
  const starts = w.padsBegin.map((p, a) => p - pads[a]!);
  const axes = w.inSizes.map((_, a) => a + 2);
  return emitSlice(
    g,
    wide,
    starts,
    starts.map((s, a) => s + w.inSizes[a]!),
    axes,
  );
}

/** The attributes of a Conv or ConvTranspose node over the window `w`, with `pads` [begin…, end…]. */
export function windowAttributes(w: Window, group: number, pads: readonly number[]): Record<string, AttributeValue> {
  return {
    group: { int: group },
    kernel_shape: { ints: w.kernel },
    strides: { ints: w.strides },
    dilations: { ints: w.dilations },
    pads: { ints: pads },
  };
}
