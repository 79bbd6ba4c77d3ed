import { GLYPH_HEIGHT, rasterizeText, textWidth } from './bitmap-font.js';
import type { Rgb } from './colormap.js';
import type { RgbaImage } from './image.js';
import { channelNamesOf, layoutSeries, SERIES_BACKGROUND, SERIES_RULE, type SeriesMap, type SeriesPlotOptions } from './series.js';

/** Half the signal line's thickness in pixels. */
const LINE_HALF_WIDTH = 1;
/** The labels' text colour. */
const LABEL_INK: Rgb = [40, 40, 40];
/** White space left and right of the labels in their gutter, in pixels. */
const GUTTER_PADDING = 4;

/** Font scale of a lane's label: doubled from 40-pixel lanes on; 0 (no labels) under 11 pixels. */
export function labelScale(laneHeight: number): number {
  return laneHeight >= 40 ? 2 : laneHeight >= GLYPH_HEIGHT + 4 ? 1 : 0;
}

/**
 * Draws a series plot as RGBA pixels (for PNG), `width` wide: a white gutter
 * on the left with each channel's name in a 5 × 7 bitmap font (scaled by
 * `labelScale`, vertically centred on its lane, as wide as the longest name
 * plus 4 pixels each side, at most a quarter of the width), then one lane per
 * channel, top to bottom, `laneHeight` pixels high: per column the band colour
 * of the sample under it, the signal (when given) as a line interpolated
 * linearly between sample centres in the colour of the nearest sample, and a
 * 1-pixel gray rule between lanes across the whole width.
 */
export function renderSeries(series: SeriesMap, options: SeriesPlotOptions = {}): RgbaImage {
  const names = channelNamesOf(series.channels, options);
  const scale = labelScale(options.laneHeight ?? 80);
  const longest = Math.max(...names.map((name) => textWidth(name, scale)));
  const gutter = scale === 0 ? 0 : Math.min(Math.floor((options.width ?? 1600) / 4), longest + 2 * GUTTER_PADDING);
  const layout = layoutSeries(series, options, gutter);
  const { width, height, laneHeight, left, plotWidth, channels, length, band, line, y } = layout;
  const out = new Uint8ClampedArray(width * height * 4);
  const put = (x: number, row: number, [r, g, b]: Rgb) => {
    const p = 4 * (row * width + x);
    out[p] = r;
    out[p + 1] = g;
    out[p + 2] = b;
    out[p + 3] = 255;
  };
  // The sample under plot column px's centre (px = x − left).
  const sampleAt = (px: number) => Math.min(length - 1, Math.floor(((px + 0.5) * length) / plotWidth));
  for (let c = 0; c < channels; c++) {
    const top = c * laneHeight;
    for (let row = top; row < top + laneHeight; row++) for (let x = 0; x < left; x++) put(x, row, SERIES_BACKGROUND);
    if (scale > 0) {
      const y0 = top + Math.floor((laneHeight - GLYPH_HEIGHT * scale) / 2);
      rasterizeText(names[c]!, scale, (x, row) => {
        if (GUTTER_PADDING + x < left) put(GUTTER_PADDING + x, y0 + row, LABEL_INK);
      });
    }
    for (let px = 0; px < plotWidth; px++) {
      const colour = band[c * length + sampleAt(px)]!;
      for (let row = top; row < top + laneHeight; row++) put(left + px, row, colour);
    }
    if (y !== undefined) {
      // The line's y at plot column px: linear between the two nearest sample centres.
      const lineY = (px: number) => {
        if (length === 1) return y[c * length]!;
        const u = Math.min(length - 1, Math.max(0, ((px + 0.5) * length) / plotWidth - 0.5));
        const i = Math.min(length - 2, Math.floor(u));
        return y[c * length + i]! + (u - i) * (y[c * length + i + 1]! - y[c * length + i]!);
      };
      let previous = lineY(0);
      for (let px = 0; px < plotWidth; px++) {
        const current = lineY(px);
        const from = Math.max(top, Math.floor(Math.min(previous, current) - LINE_HALF_WIDTH));
        const to = Math.min(top + laneHeight - 1, Math.ceil(Math.max(previous, current) + LINE_HALF_WIDTH));
        const colour = line[c * length + sampleAt(px)]!;
        for (let row = from; row <= to; row++) put(left + px, row, colour);
        previous = current;
      }
    }
    if (c > 0) for (let x = 0; x < width; x++) put(x, top, SERIES_RULE);
  }
  return { width, height, data: out };
}
