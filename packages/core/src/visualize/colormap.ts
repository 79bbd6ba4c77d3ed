/** An RGB colour, 0–255 per channel. */
export type Rgb = readonly [number, number, number];

/**
 * A colormap sampled at equally spaced points of [0, 1]: stop `k` of `n` sits
 * at `k / (n − 1)`; colours between stops are linearly interpolated in sRGB.
 */
export interface Colormap {
  readonly name: string;
  readonly stops: readonly Rgb[];
}

function hex(code: string): Rgb {
  const n = Number.parseInt(code.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/**
 * Diverging blue–white–red: ColorBrewer's 11-class "RdBu" (Cynthia Brewer,
 * colorbrewer2.org) reversed, so that 0 (most negative) is dark blue
 * #053061, 0.5 (zero) is near-white #f7f7f7 and 1 (most positive) is dark
 * red #67001f. Both arms have the same lightness ramp, so equal magnitudes
 * of either sign look equally strong.
 */
export const DIVERGING: Colormap = {
  name: 'RdBu_r',
  stops: ['#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f'].map(hex),
};

/**
 * Perceptually uniform sequential "viridis" (van der Walt and Smith, the
 * matplotlib default; CC0), sampled at 9 points as R's `viridisLite::viridis(9)`:
 * dark purple #440154 at 0, teal #21908c at 0.5, yellow #fde725 at 1.
 */
export const SEQUENTIAL: Colormap = {
  name: 'viridis',
  stops: ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21908c', '#27ad81', '#5dc863', '#aadc32', '#fde725'].map(hex),
};

/**
 * The colour of `t ∈ [0, 1]` (values outside are clamped; NaN is taken as 0):
 * with `s = t · (n − 1)`, `k = ⌊s⌋`, `f = s − k`,
 *
 *   colour = round((1 − f) · stop[k] + f · stop[k + 1]).
 */
export function sampleColormap(colormap: Colormap, t: number): Rgb {
  const last = colormap.stops.length - 1;
  const s = (Number.isNaN(t) ? 0 : Math.min(1, Math.max(0, t))) * last;
  const k = Math.min(Math.floor(s), last - 1);
  const f = s - k;
  const a = colormap.stops[k]!;
  const b = colormap.stops[k + 1]!;
  return [Math.round((1 - f) * a[0] + f * b[0]), Math.round((1 - f) * a[1] + f * b[1]), Math.round((1 - f) * a[2] + f * b[2])];
}
