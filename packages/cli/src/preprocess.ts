import { hostTensor, type HostTensor } from '@saliency/core';
import type { RgbaImage } from '@saliency/core/visualize';
import { CliError } from './errors.js';

export type Layout = 'NCHW' | 'NHWC';
export type ChannelOrder = 'RGB' | 'BGR';

/** How an image becomes the model's input tensor. */
export interface Preprocess {
  readonly width: number;
  readonly height: number;
  /** One channel, luma `0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601, as PIL's "L"). */
  readonly grayscale: boolean;
  /** Pixel values 0–255 are multiplied by this first. */
  readonly scale: number;
  /** Subtracted after scaling: one value, or one per channel. */
  readonly mean: readonly number[];
  /** Divides after the mean: one value, or one per channel. */
  readonly std: readonly number[];
  readonly layout: Layout;
  /** Order of the colour channels in the tensor. */
  readonly channelOrder: ChannelOrder;
}

/**
 * Bilinear resize with half-pixel centres and no antialiasing — what
 * `tf.image.resizeBilinear(..., halfPixelCenters = true)` and PyTorch's
 * `F.interpolate(mode='bilinear', align_corners=False)` compute. Output pixel
 * `(x, y)` samples the input at
 *
 *   u = (x + 0.5) · W_in / W_out − 0.5,   v = (y + 0.5) · H_in / H_out − 0.5,
 *
 * clamped to the image, blending the four neighbours with weights
 * `(1 − fu)(1 − fv)`, `fu (1 − fv)`, `(1 − fu) fv`, `fu fv`. All four channels,
 * results rounded to integers. A same-size resize returns a copy.
 */
export function resizeBilinear(image: RgbaImage, width: number, height: number): RgbaImage {
  const out = new Uint8ClampedArray(width * height * 4);
  const sx = image.width / width;
  const sy = image.height / height;
  for (let y = 0; y < height; y++) {
    const v = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), image.height - 1);
    const y0 = Math.floor(v);
    const y1 = Math.min(y0 + 1, image.height - 1);
    const fv = v - y0;
    for (let x = 0; x < width; x++) {
      const u = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), image.width - 1);
      const x0 = Math.floor(u);
      const x1 = Math.min(x0 + 1, image.width - 1);
      const fu = u - x0;
      for (let c = 0; c < 4; c++) {
        const at = (xx: number, yy: number) => image.data[(yy * image.width + xx) * 4 + c]!;
        const top = (1 - fu) * at(x0, y0) + fu * at(x1, y0);
        const bottom = (1 - fu) * at(x0, y1) + fu * at(x1, y1);
        out[(y * width + x) * 4 + c] = Math.round((1 - fv) * top + fv * bottom);
      }
    }
  }
  return { width, height, data: out };
}

/** The 0–255 channel values of each pixel in tensor order: `[gray]` or RGB / BGR. */
function pixelChannels(image: RgbaImage, p: number, options: Preprocess): number[] {
  const r = image.data[4 * p]!;
  const g = image.data[4 * p + 1]!;
  const b = image.data[4 * p + 2]!;
  if (options.grayscale) return [0.299 * r + 0.587 * g + 0.114 * b];
  return options.channelOrder === 'RGB' ? [r, g, b] : [b, g, r];
}

/**
 * Turns an image into a batch of one in the model's layout: resized to
 * `width × height`, then per channel `c`
 *
 *   x = (pixel · scale − mean[c]) / std[c],
 *
 * shaped `[1, C, H, W]` (NCHW) or `[1, H, W, C]` (NHWC), C = 1 or 3.
 * Returns the resized image too, for overlays.
 */
export function imageToTensor(image: RgbaImage, options: Preprocess): { tensor: HostTensor; resized: RgbaImage } {
  const channels = options.grayscale ? 1 : 3;
  for (const [name, values] of [['mean', options.mean], ['std', options.std]] as const) {
    if (values.length !== 1 && values.length !== channels) {
      throw new CliError(`--${name} has ${values.length} values; give one, or one per channel (${channels})`);
    }
  }
  const resized = image.width === options.width && image.height === options.height ? image : resizeBilinear(image, options.width, options.height);
  const pixels = options.width * options.height;
  const data = new Float32Array(pixels * channels);
  for (let p = 0; p < pixels; p++) {
    pixelChannels(resized, p, options).forEach((value, c) => {
      const mean = options.mean[options.mean.length === 1 ? 0 : c]!;
      const std = options.std[options.std.length === 1 ? 0 : c]!;
      data[options.layout === 'NCHW' ? c * pixels + p : p * channels + c] = (value * options.scale - mean) / std;
    });
  }
  const shape = options.layout === 'NCHW' ? [1, channels, options.height, options.width] : [1, options.height, options.width, channels];
  return { tensor: hostTensor(data, shape), resized };
}
