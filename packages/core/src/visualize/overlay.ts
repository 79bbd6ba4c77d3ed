import { checkSize, type RgbaImage } from './image.js';

/**
 * Alpha-blends `heatmap` over `image` (same size). Per pixel, with
 * `a = alpha · heatmap.A / 255`,
 *
 *   out.RGB = round((1 − a) · image.RGB + a · heatmap.RGB),   out.A = image.A.
 */
export function overlay(image: RgbaImage, heatmap: RgbaImage, alpha = 0.5): RgbaImage {
  checkSize('overlay (image)', image.width, image.height, image.data.length, 4);
  checkSize('overlay (heatmap)', heatmap.width, heatmap.height, heatmap.data.length, 4);
  if (image.width !== heatmap.width || image.height !== heatmap.height) {
    throw new RangeError(
      `overlay: the image is ${image.width} × ${image.height} but the heatmap ${heatmap.width} × ${heatmap.height}; resize one first`,
    );
  }
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`overlay: alpha must be in [0, 1]; got ${alpha}`);
  const out = new Uint8ClampedArray(image.data.length);
  for (let i = 0; i < out.length; i += 4) {
    const a = (alpha * heatmap.data[i + 3]!) / 255;
    for (let c = 0; c < 3; c++) out[i + c] = Math.round((1 - a) * image.data[i + c]! + a * heatmap.data[i + c]!);
    out[i + 3] = image.data[i + 3]!;
  }
  return { width: image.width, height: image.height, data: out };
}

/** A one-channel (gray) image of `width × height` values in 0–255 as opaque RGBA. */
export function grayToRgba(gray: ArrayLike<number>, width: number, height: number): RgbaImage {
  checkSize('grayToRgba', width, height, gray.length, 1);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const v = Math.round(gray[p]!);
    out[4 * p] = v;
    out[4 * p + 1] = v;
    out[4 * p + 2] = v;
    out[4 * p + 3] = 255;
  }
  return { width, height, data: out };
}
