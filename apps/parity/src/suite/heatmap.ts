import type { OnnxLayout } from './layout.js';

/** An RGBA image, row-major, 4 bytes a pixel. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8ClampedArray;
}

/** Stops of a perceptually ordered black → purple → orange → yellow scale (after matplotlib's inferno). */
const STOPS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 4],
  [87, 16, 110],
  [188, 55, 84],
  [249, 142, 9],
  [252, 255, 164],
];

function colour(t: number): readonly [number, number, number] {
  const u = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(u));
  const f = u - i;
  const [a, b] = [STOPS[i]!, STOPS[i + 1]!];
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

/**
 * The magnitude image of example 0 of a map in the ONNX layout:
 * NCHW → H×W of Σ_c |v| ; NCW → C rows × W columns of |v| ; NF → 1 row of |v|.
 * Values are divided by `scale` (pass the reference's maximum, so that every
 * backend's image of one map is on the same scale and differences show).
 */
export function magnitudeImage(
  map: ArrayLike<number>,
  shape: readonly number[],
  layout: OnnxLayout,
): { width: number; height: number; values: Float64Array } {
  if (layout === 'NCHW') {
    const [, channels, height, width] = shape as [number, number, number, number];
    const values = new Float64Array(height * width);
    for (let c = 0; c < channels; c++) for (let p = 0; p < values.length; p++) values[p]! += Math.abs(map[c * values.length + p]!);
    return { width, height, values };
  }
  const [, rows, width] = layout === 'NCW' ? (shape as [number, number, number]) : [0, 1, shape[1]!];
  return { width, height: rows, values: Float64Array.from({ length: rows * width }, (_, p) => Math.abs(map[p]!)) };
}

export function heatmapImage(values: Float64Array, width: number, height: number, scale: number): RgbaImage {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < values.length; p++) {
    const [r, g, b] = colour(scale > 0 ? values[p]! / scale : 0);
    rgba.set([r, g, b, 255], p * 4);
  }
  return { width, height, rgba };
}

/** The largest value of a magnitude image: the shared scale of one map's images. */
export const maxOf = (values: Float64Array) => values.reduce((m, v) => Math.max(m, v), 0);
