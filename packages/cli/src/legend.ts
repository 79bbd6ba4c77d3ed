import {
  clipLevel,
  DIVERGING,
  NUMBER_FONT,
  rasterizeText,
  SEQUENTIAL,
  sampleColormap,
  textWidth,
  type ColormapKind,
  type RgbaImage,
} from '@saliency/core/visualize';

/** A clipping level in at most 7 characters: `0.012`, `3.4`, `1.2e-5`. */
export function formatLevel(value: number): string {
  if (value === 0) return '0';
  const plain = Number(value.toPrecision(2)).toString();
  return plain.length <= 6 ? plain : value.toExponential(1).replace('e+', 'e');
}

function fill(image: RgbaImage, x0: number, y0: number, w: number, h: number, [r, g, b]: readonly number[]): void {
  for (let y = Math.max(0, y0); y < Math.min(image.height, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(image.width, x0 + w); x++) {
      const o = 4 * (y * image.width + x);
      image.data[o] = r!;
      image.data[o + 1] = g!;
      image.data[o + 2] = b!;
      image.data[o + 3] = 255;
    }
  }
}

/** `text` in black, its top left at (x0, y0), in core's 3 × 5 number font. */
function drawText(image: RgbaImage, text: string, x0: number, y0: number, scale: number): void {
  rasterizeText(text, scale, (x, y) => fill(image, x0 + x, y0 + y, 1, 1, [0, 0, 0]), NUMBER_FONT);
}

/** Pixel size of one glyph cell for an image `width` pixels wide: 1 up to 255 px, then one more per 256 px, at most 4. */
function cellSize(width: number): number {
  return Math.min(4, Math.max(1, Math.floor(width / 256) + 1));
}

/** Height in pixels of the strip `withColourBar` adds under an image `width` pixels wide. */
export function colourBarHeight(width: number): number {
  return 16 * cellSize(width);
}

/**
 * The image with a colour bar added below it, on white: the colormap from
 * one end to the other, and under it the values its ends and middle stand
 * for, `c = P99(|R|)` of `map` being the clipping level `renderHeatmap`
 * uses (sequential: 0 … c; diverging: −c … 0 … c). The image's own pixels
 * are unchanged, so its top `image.height` rows still lie over the source.
 * Labels that do not fit the width are left out.
 */
export function withColourBar(image: RgbaImage, map: ArrayLike<number>, colormap: ColormapKind): RgbaImage {
  const s = cellSize(image.width);
  const strip = colourBarHeight(image.width);
  const out: RgbaImage = {
    width: image.width,
    height: image.height + strip,
    data: new Uint8ClampedArray(image.width * (image.height + strip) * 4),
  };
  out.data.set(image.data);
  fill(out, 0, image.height, out.width, strip, [255, 255, 255]);
  const margin = Math.min(2 * s, Math.floor(image.width / 8));
  const barWidth = Math.max(1, image.width - 2 * margin);
  const barTop = image.height + 2 * s;
  const stops = colormap === 'sequential' ? SEQUENTIAL : DIVERGING;
  for (let x = 0; x < barWidth; x++) {
    fill(out, margin + x, barTop, 1, 6 * s, sampleColormap(stops, barWidth === 1 ? 0.5 : x / (barWidth - 1)));
  }
  const c = clipLevel(map, 99);
  const labels = colormap === 'sequential' ? ['0', formatLevel(c)] : [`-${formatLevel(c)}`, '0', formatLevel(c)];
  const widths = labels.map((l) => textWidth(l, s, NUMBER_FONT));
  if (widths.reduce((a, b) => a + b, 0) + 2 * s * (labels.length - 1) > barWidth) return out;
  const textTop = barTop + 8 * s;
  drawText(out, labels[0]!, margin, textTop, s);
  drawText(out, labels.at(-1)!, margin + barWidth - widths.at(-1)!, textTop, s);
  if (labels.length === 3) drawText(out, labels[1]!, margin + Math.round((barWidth - widths[1]!) / 2), textTop, s);
  return out;
}
