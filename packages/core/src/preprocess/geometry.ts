import type { RgbaImage, ScalarMap } from '../visualize/image.js';

/**
 * How an image of one size becomes the model's size:
 *
 * - `'stretch'`: the whole image to the whole input, aspect ratio not kept;
 * - `'center-crop'`: scaled by `max(w/W, h/H)` so that it covers the input,
 *   the overhang cut off evenly on both sides (the part of the image outside
 *   the crop is not seen by the model);
 * - `'letterbox'`: scaled by `min(w/W, h/H)` so that it fits, centred, the
 *   rest of the input padded (black).
 */
export type Fit = 'stretch' | 'center-crop' | 'letterbox';

export const FITS: readonly Fit[] = ['stretch', 'center-crop', 'letterbox'];

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** An axis-aligned rectangle in pixel units; edges, not centres (`x + width` is the right edge). */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * What preprocessing did to the image's geometry: the rectangle `from` of
 * the source image (its pixel units; fractional where a crop falls between
 * pixels) was scaled onto the rectangle `to` of the model input (whole
 * pixels); input pixels outside `to` are padding. Enough to map a map of the
 * input back onto the source image (`mapToSource`).
 */
export interface Geometry {
  readonly source: Size;
  readonly target: Size;
  readonly from: Rect;
  readonly to: Rect;
}

/** The geometry of fitting an image of size `source` to `target` with `fit`. */
export function planGeometry(source: Size, target: Size, fit: Fit): Geometry {
  const whole = (size: Size): Rect => ({ x: 0, y: 0, width: size.width, height: size.height });
  if (fit === 'center-crop') {
    const scale = Math.max(target.width / source.width, target.height / source.height);
    const width = target.width / scale;
    const height = target.height / scale;
    const from = { x: (source.width - width) / 2, y: (source.height - height) / 2, width, height };
    return { source, target, from, to: whole(target) };
  }
  if (fit === 'letterbox') {
    const scale = Math.min(target.width / source.width, target.height / source.height);
    const width = Math.min(target.width, Math.max(1, Math.round(source.width * scale)));
    const height = Math.min(target.height, Math.max(1, Math.round(source.height * scale)));
    const to = { x: Math.floor((target.width - width) / 2), y: Math.floor((target.height - height) / 2), width, height };
    return { source, target, from: whole(source), to };
  }
  return { source, target, from: whole(source), to: whole(target) };
}

/** Whether the geometry leaves every pixel where it is. */
export function isIdentity(g: Geometry): boolean {
  const { from, to, source, target } = g;
  return (
    source.width === target.width &&
    source.height === target.height &&
    [from.x, from.y, to.x, to.y].every((v) => v === 0) &&
    from.width === to.width &&
    from.height === to.height
  );
}

/** One axis of a bilinear sample: the two neighbours and the weight of the second. */
interface AxisSample {
  readonly i0: number;
  readonly i1: number;
  readonly f: number;
}

/**
 * Output pixel `i` of an axis whose span `[outStart, outStart + outSize)`
 * shows the input span `[inStart, inStart + inSize)`, with half-pixel
 * centres: it samples the input at
 *
 *   u = inStart + (i − outStart + 0.5) · inSize / outSize − 0.5,
 *
 * clamped to the input pixels `[lo, hi]`.
 */
function axisSample(i: number, outStart: number, outSize: number, inStart: number, inSize: number, lo: number, hi: number): AxisSample {
  const scale = inSize / outSize;
  const u = Math.min(Math.max(inStart + (i - outStart + 0.5) * scale - 0.5, lo), hi);
  const i0 = Math.floor(u);
  return { i0, i1: Math.min(i0 + 1, hi), f: u - i0 };
}

/** `(1 − fu)(1 − fv) a + fu (1 − fv) b + (1 − fu) fv c + fu fv d` for the four neighbours of a sample. */
function blend(at: (x: number, y: number) => number, u: AxisSample, v: AxisSample): number {
  const top = (1 - u.f) * at(u.i0, v.i0) + u.f * at(u.i1, v.i0);
  const bottom = (1 - u.f) * at(u.i0, v.i1) + u.f * at(u.i1, v.i1);
  return (1 - v.f) * top + v.f * bottom;
}

/**
 * The image at the geometry's target size: each pixel inside `to` a bilinear
 * sample of the source (half-pixel centres, no antialiasing, clamped to the
 * image: what `tf.image.resizeBilinear(..., halfPixelCenters = true)` and
 * PyTorch's `F.interpolate(mode='bilinear', align_corners=False)` compute
 * for a stretch), all four channels rounded to integers; pixels outside
 * `to` are opaque black.
 */
export function resample(image: RgbaImage, g: Geometry): RgbaImage {
  const { width, height } = g.target;
  const out = new Uint8ClampedArray(width * height * 4);
  const { from, to } = g;
  for (let y = 0; y < height; y++) {
    const inside = y >= to.y && y < to.y + to.height;
    const v = axisSample(y, to.y, to.height, from.y, from.height, 0, image.height - 1);
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      if (!inside || x < to.x || x >= to.x + to.width) {
        out[o + 3] = 255;
        continue;
      }
      const u = axisSample(x, to.x, to.width, from.x, from.width, 0, image.width - 1);
      for (let c = 0; c < 4; c++) out[o + c] = Math.round(blend((xx, yy) => image.data[(yy * image.width + xx) * 4 + c]!, u, v));
    }
  }
  return { width, height, data: out };
}

/**
 * A stretch to `width × height` (see `resample`); a same-size resize returns
 * an equal copy.
 */
export function resizeBilinear(image: RgbaImage, width: number, height: number): RgbaImage {
  return resample(image, planGeometry(image, { width, height }, 'stretch'));
}

/**
 * A map of the model input (`g.target` size, one value per pixel) at the
 * source image's size: the inverse of the geometry, so that it lies over the
 * original image. A source pixel whose centre falls in the part of the image
 * the model saw samples the map bilinearly (half-pixel centres, clamped to
 * `to`, so that padding never leaks in); one the model did not see (cut off by
 * a centre crop) gets `outside` (default 0).
 */
export function mapToSource(map: ScalarMap, g: Geometry, outside = 0): ScalarMap {
  if (map.width !== g.target.width || map.height !== g.target.height) {
    throw new RangeError(
      `mapToSource: the map is ${map.width} × ${map.height}; the geometry's target is ${g.target.width} × ${g.target.height}`,
    );
  }
  const { width, height } = g.source;
  const { from, to } = g;
  const data = new Float32Array(width * height);
  const seen = (p: number, start: number, size: number) => p + 0.5 >= start && p + 0.5 <= start + size;
  for (let y = 0; y < height; y++) {
    const v = axisSample(y, from.y, from.height, to.y, to.height, to.y, to.y + to.height - 1);
    for (let x = 0; x < width; x++) {
      if (!seen(y, from.y, from.height) || !seen(x, from.x, from.width)) {
        data[y * width + x] = outside;
        continue;
      }
      const u = axisSample(x, from.x, from.width, to.x, to.width, to.x, to.x + to.width - 1);
      data[y * width + x] = blend((xx, yy) => map.data[yy * map.width + xx]!, u, v);
    }
  }
  return { width, height, data };
}
