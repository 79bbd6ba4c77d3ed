import { hostTensor, type HostTensor } from '../tensor.js';
import type { RgbaImage } from '../visualize/image.js';
import { isIdentity, planGeometry, resample, type Geometry } from './geometry.js';
import type { Preprocess } from './settings.js';

/** The 0–255 channel values of pixel `p` in tensor order: `[gray]` or RGB / BGR. */
function pixelChannels(image: RgbaImage, p: number, options: Preprocess): number[] {
  const r = image.data[4 * p]!;
  const g = image.data[4 * p + 1]!;
  const b = image.data[4 * p + 2]!;
  if (options.grayscale) return [0.299 * r + 0.587 * g + 0.114 * b];
  return options.channelOrder === 'RGB' ? [r, g, b] : [b, g, r];
}

/**
 * Turns an image into a batch of one in the model's layout: fitted to
 * `width × height` (`options.fit`, see `resample`), then per channel `c`
 *
 *   x = (pixel · scale − mean[c]) / std[c],
 *
 * shaped `[1, C, H, W]` (NCHW) or `[1, H, W, C]` (NHWC), C = 1 or 3.
 * Returns the fitted image too (what the model sees, for overlays) and the
 * geometry, with which `mapToSource` brings a map back to the image's size.
 * `options` comes from `resolvePreprocess`, which checks it.
 */
export function imageToTensor(image: RgbaImage, options: Preprocess): { tensor: HostTensor; resized: RgbaImage; geometry: Geometry } {
  const channels = options.grayscale ? 1 : 3;
  const geometry = planGeometry(image, options, options.fit);
  const resized = isIdentity(geometry) ? image : resample(image, geometry);
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
  return { tensor: hostTensor(data, shape), resized, geometry };
}
