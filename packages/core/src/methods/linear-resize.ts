/**
 * One axis of a linear resize with half-pixel centres, as PyTorch's
 * `F.interpolate(mode='linear' | 'bilinear', align_corners=False)` (and
 * ONNX Resize with `half_pixel` coordinates, clamped at the border): output
 * position `o` of `to` reads input position `s = max((o + 0.5)·from/to − 0.5, 0)`,
 * mixing `⌊s⌋` and the next position (the last one at the end) by the
 * fraction of `s`.
 */
export interface AxisTaps {
  readonly lower: Int32Array;
  readonly upper: Int32Array;
  /** The weight of `upper`; `lower` gets 1 − this. */
  readonly fraction: Float64Array;
}

export function axisTaps(from: number, to: number): AxisTaps {
  const lower = new Int32Array(to);
  const upper = new Int32Array(to);
  const fraction = new Float64Array(to);
  for (let o = 0; o < to; o++) {
    const s = Math.max(((o + 0.5) * from) / to - 0.5, 0);
    const i = Math.min(Math.floor(s), from - 1);
    lower[o] = i;
    upper[o] = Math.min(i + 1, from - 1);
    fraction[o] = s - i;
  }
  return { lower, upper, fraction };
}

/**
 * Resizes one map of `fromShape` (one or two axes) to `toShape` linearly
 * along each axis (bilinear for two), as `axisTaps` describes.
 */
export function resizeLinear(map: Float64Array, fromShape: readonly number[], toShape: readonly number[]): Float64Array {
  if (fromShape.length === 1) {
    const t = axisTaps(fromShape[0]!, toShape[0]!);
    return Float64Array.from(
      { length: toShape[0]! },
      (_, o) => (1 - t.fraction[o]!) * map[t.lower[o]!]! + t.fraction[o]! * map[t.upper[o]!]!,
    );
  }
  const [h, w] = fromShape as [number, number];
  const [outH, outW] = toShape as [number, number];
  const ty = axisTaps(h, outH);
  const tx = axisTaps(w, outW);
  const out = new Float64Array(outH * outW);
  const at = (y: number, o: number) => (1 - tx.fraction[o]!) * map[y * w + tx.lower[o]!]! + tx.fraction[o]! * map[y * w + tx.upper[o]!]!;
  for (let oy = 0; oy < outH; oy++) {
    const fy = ty.fraction[oy]!;
    for (let ox = 0; ox < outW; ox++) out[oy * outW + ox] = (1 - fy) * at(ty.lower[oy]!, ox) + fy * at(ty.upper[oy]!, ox);
  }
  return out;
}
