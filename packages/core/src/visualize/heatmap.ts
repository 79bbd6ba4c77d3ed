import { DIVERGING, SEQUENTIAL, sampleColormap, type Colormap } from './colormap.js';
import { checkSize, type RgbaImage, type ScalarMap } from './image.js';
import { normalizeSymmetric, normalizeUnsigned } from './normalize.js';

/** `diverging` for signed maps, `sequential` for unsigned ones. */
export type ColormapKind = 'diverging' | 'sequential';

export interface HeatmapOptions {
  /** Default `diverging`. */
  readonly colormap?: ColormapKind | Colormap;
  /** Percentile of |R| that gets the colormap's end colour. Default 99. */
  readonly percentile?: number;
  /** The |R| that gets the end colour, instead of a percentile (see `NormalizeOptions.level`). */
  readonly level?: number;
}

/**
 * Colours a 2-D map, opaque.
 *
 * - diverging: `t = (R' + 1) / 2` with `R' = normalizeSymmetric(R)` in [−1, 1],
 *   so 0 is the middle (white) colour, −c and below the first, +c and above the last;
 * - sequential: `t = normalizeUnsigned(R)` in [0, 1] (negative values count as 0).
 *
 * A `Colormap` object is used as a diverging one.
 */
export function renderHeatmap(map: ScalarMap, options: HeatmapOptions = {}): RgbaImage {
  const { width, height, data } = map;
  checkSize('renderHeatmap', width, height, data.length, 1);
  const { colormap, t } = colormapPositions(data, options);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const [r, g, b] = sampleColormap(colormap, t[p]!);
    out[4 * p] = r;
    out[4 * p + 1] = g;
    out[4 * p + 2] = b;
    out[4 * p + 3] = 255;
  }
  return { width, height, data: out };
}

/**
 * Where each value of a map falls on its colormap, `t ∈ [0, 1]`, as the
 * `renderHeatmap` comment says, and how strong its colour is, `|2t − 1|` for
 * a diverging colormap (0 at the white middle) and `t` for a sequential one.
 */
export function colormapPositions(
  data: ArrayLike<number>,
  options: HeatmapOptions = {},
): { colormap: Colormap; t: Float32Array; strength: Float32Array } {
  const kind = options.colormap ?? 'diverging';
  const normalize = { percentile: options.percentile ?? 99, ...(options.level === undefined ? {} : { level: options.level }) };
  const sequential = kind === 'sequential';
  const colormap = typeof kind === 'object' ? kind : sequential ? SEQUENTIAL : DIVERGING;
  const t = sequential ? normalizeUnsigned(data, normalize) : normalizeSymmetric(data, normalize).map((v) => (v + 1) / 2);
  const strength = sequential ? t : t.map((v) => Math.abs(2 * v - 1));
  return { colormap, t, strength };
}
