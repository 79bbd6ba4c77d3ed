import { GLYPH_HEIGHT, rasterizeText, textWidth } from './bitmap-font.js';
import type { Rgb } from './colormap.js';
import type { RgbaImage } from './image.js';
import { layoutSeries, SERIES_BACKGROUND, SERIES_RULE, type SeriesMap, type SeriesPlotOptions } from './series.js';

/** Half the signal line's thickness in pixels. */
const LINE_HALF_WIDTH = 1;
/** The label's text colour. */
const LABEL_INK: Rgb = [40, 40, 40];
/** Where a label's box starts: pixels right of the left edge and below the lane's top. */
const LABEL_OFFSET = 2;
/** Padding inside the label's box. */
const LABEL_PADDING = 2;

/**
 * Draws a series plot as RGBA pixels (for PNG): one lane per channel, top to
 * bottom, each `laneHeight` pixels high and `width` wide; per column the
 * band colour of the sample under it, the signal (when given) as a line
 * interpolated linearly between sample centres in the colour of the nearest
 * sample, a 1-pixel gray rule between lanes, and each channel's name in a
 * white box at the lane's top left, in a 5 × 7 bitmap font (doubled for lanes
 * of 40 pixels or more; left out for lanes under 15). The top row of a lane
 * below its rule is always band.
 */
export function renderSeries(series: SeriesMap, options: SeriesPlotOptions = {}): RgbaImage {
  const layout = layoutSeries(series, options, 0);
  const { width, height, laneHeight, channels, length, band, line, y, names } = layout;
  const scale = laneHeight >= 40 ? 2 : 1;
  const labelled = laneHeight >= GLYPH_HEIGHT * scale + 2 * (LABEL_OFFSET + LABEL_PADDING);
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
    if (labelled) {
      const boxRight = Math.min(width, LABEL_OFFSET + textWidth(names[c]!, scale) + 2 * LABEL_PADDING);
      const boxBottom = top + LABEL_OFFSET + GLYPH_HEIGHT * scale + 2 * LABEL_PADDING;
      for (let row = top + LABEL_OFFSET; row < boxBottom; row++) for (let x = LABEL_OFFSET; x < boxRight; x++) put(x, row, SERIES_BACKGROUND);
      const [x0, y0] = [LABEL_OFFSET + LABEL_PADDING, top + LABEL_OFFSET + LABEL_PADDING];
      rasterizeText(names[c]!, scale, (x, row) => {
        if (x0 + x < boxRight - LABEL_PADDING) put(x0 + x, y0 + row, LABEL_INK);
      });
    }
    if (c > 0) for (let x = 0; x < width; x++) put(x, top, SERIES_RULE);
  }
  return { width, height, data: out };
}
