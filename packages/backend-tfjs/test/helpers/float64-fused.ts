/*
 * Plain-JS float64 versions of TF.js's fused ops (conv2d, depthwise conv2d,
 * matMul, each + bias + activation), independent of TF.js, for central
 * finite differences. NHWC, filters [fh, fw, inC, outC] (depthwise:
 * [fh, fw, C, multiplier], output channel c·multiplier + k), as in TF.js.
 */
import { windowGeometry, type Padding } from './float64-model.js';

export const FUSED_ACTIVATIONS = ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'sigmoid', 'elu'] as const;
export type FusedActivation = (typeof FUSED_ACTIVATIONS)[number];
export const LEAKY_ALPHA = 0.2;

export interface ConvGeometry {
  readonly strides: readonly [number, number];
  readonly padding: Padding;
  readonly dilations?: readonly [number, number];
}

/** A convolution in float64: `depthwise` takes a [fh, fw, C, m] filter. */
export function conv2d64(
  x: Float64Array,
  [n, h, w, c]: readonly number[],
  filter: Float64Array,
  [fh, fw, fc, m]: readonly number[],
  { strides, padding, dilations = [1, 1] }: ConvGeometry,
  depthwise: boolean,
): { y: Float64Array; shape: [number, number, number, number] } {
  const gh = windowGeometry(h!, (fh! - 1) * dilations[0] + 1, strides[0], padding);
  const gw = windowGeometry(w!, (fw! - 1) * dilations[1] + 1, strides[1], padding);
  const outC = depthwise ? c! * m! : m!;
  const y = new Float64Array(n! * gh.out * gw.out * outC);
  for (let b = 0; b < n!; b++)
    for (let oy = 0; oy < gh.out; oy++)
      for (let ox = 0; ox < gw.out; ox++)
        for (let o = 0; o < outC; o++) {
          let s = 0;
          for (let ky = 0; ky < fh!; ky++)
            for (let kx = 0; kx < fw!; kx++) {
              const iy = oy * strides[0] + ky * dilations[0] - gh.before;
              const ix = ox * strides[1] + kx * dilations[1] - gw.before;
              if (iy < 0 || iy >= h! || ix < 0 || ix >= w!) continue;
              const at = ((b * h! + iy) * w! + ix) * c!;
              if (depthwise) {
                const ci = Math.floor(o / m!);
                s += x[at + ci]! * filter[((ky * fw! + kx) * fc! + ci) * m! + (o % m!)]!;
              } else {
                for (let ci = 0; ci < c!; ci++) s += x[at + ci]! * filter[((ky * fw! + kx) * fc! + ci) * m! + o]!;
              }
            }
          y[((b * gh.out + oy) * gw.out + ox) * outC + o] = s;
        }
  return { y, shape: [n!, gh.out, gw.out, outC] };
}

/** `x [n, k] · w [k, m]` in float64. */
export function matMul64(x: Float64Array, [n, k]: readonly number[], w: Float64Array, m: number): Float64Array {
  const y = new Float64Array(n! * m);
  for (let i = 0; i < n!; i++)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let l = 0; l < k!; l++) s += x[i * k! + l]! * w[l * m + j]!;
      y[i * m + j] = s;
    }
  return y;
}

/** Bias (per last-axis channel) then activation; `alpha` holds prelu's per-channel slopes. */
export function biasActivate64(
  z: Float64Array,
  channels: number,
  bias: Float64Array | undefined,
  activation: FusedActivation,
  alpha: Float64Array,
): Float64Array {
  return z.map((value, i) => {
    const v = value + (bias?.[i % channels] ?? 0);
    switch (activation) {
      case 'linear':
        return v;
      case 'relu':
        return Math.max(v, 0);
      case 'relu6':
        return Math.min(Math.max(v, 0), 6);
      case 'prelu':
        return v > 0 ? v : alpha[i % channels]! * v;
      case 'leakyrelu':
        return v > 0 ? v : LEAKY_ALPHA * v;
      case 'sigmoid':
        return 1 / (1 + Math.exp(-v));
      case 'elu':
        return v > 0 ? v : Math.expm1(v);
    }
  });
}

/** Σ r · y in float64, as a one-logit function for central differences. */
export function weightedSum(r: Float64Array, forward: (x: Float64Array) => Float64Array) {
  return (x: Float64Array): Float64Array => {
    const y = forward(x);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += r[i]! * y[i]!;
    return Float64Array.of(s);
  };
}
