import type { Rgb } from './colormap.js';
import type { RgbaImage } from './image.js';
import { layoutSeries, SERIES_RULE, type SeriesMap, type SeriesPlotOptions } from './series.js';

/** Half the signal line's thickness in pixels. */
const LINE_HALF_WIDTH = 1;

/**
 * Draws a series plot as RGBA pixels (for PNG): one lane per channel, top to
 * bottom, each `laneHeight` pixels high and `width` wide; per column the
 * band colour of the sample under it, the signal (when given) as a line
 * interpolated linearly between sample centres in the colour of the nearest
 * sample, and a 1-pixel gray rule between lanes. The raster has no text:
 * channel names are drawn by `renderSeriesSvg` only (lanes are in the order
 * of the channels, top to bottom).
 */
export function renderSeries(series: SeriesMap, options: SeriesPlotOptions = {}): RgbaImage {
  const layout = layoutSeries(series, options, 0);
  const { width, height, laneHeight, channels, length, band, line, y } = layout;
  const out = new Uint8ClampedArray(width * height * 4);
  const put = (x: number, row: number, [r, g, b]: Rgb) => {
    const p = 4 * (row * width + x);
    out[p] = r;
    out[p + 1] = g;
    out[p + 2] = b;
    out[p + 3] = 255;
  };
  // The sample under column x's centre.
  const sampleAt = (x: number) => Math.min(length - 1, Math.floor(((x + 0.5) * length) / width));
  for (let c = 0; c < channels; c++) {
    const top = c * laneHeight;
    for (let x = 0; x < width; x++) {
      const colour = band[c * length + sampleAt(x)]!;
      for (let row = top; row < top + laneHeight; row++) put(x, row, colour);
    }
    if (y !== undefined) {
      // The line's y at column x: linear between the two nearest sample centres.
      const lineY = (x: number) => {
        const u = Math.min(length - 1, Math.max(0, ((x + 0.5) * length) / width - 0.5));
        const i = Math.min(length - 2, Math.floor(u));
        if (length === 1) return y[c * length]!;
        return y[c * length + i]! + (u - i) * (y[c * length + i + 1]! - y[c * length + i]!);
      };
      let previous = lineY(0);
      for (let x = 0; x < width; x++) {
        const current = lineY(x);
        const from = Math.max(top, Math.floor(Math.min(previous, current) - LINE_HALF_WIDTH));
        const to = Math.min(top + laneHeight - 1, Math.ceil(Math.max(previous, current) + LINE_HALF_WIDTH));
        const colour = line[c * length + sampleAt(x)]!;
        for (let row = from; row <= to; row++) put(x, row, colour);
        previous = current;
      }
    }
    if (c > 0) for (let x = 0; x < width; x++) put(x, top, SERIES_RULE);
  }
  return { width, height, data: out };
}
