import { hostTensor, type HostTensor } from '@saliency/core';
import type { Layout, Preset } from './preset.js';

/** An image drawn at the model's size: its RGBA pixels, for display and for the tensor. */
export type Pixels = ImageData;

/** Decodes an image (URL or uploaded file) and resizes it to the preset's size. */
export async function loadPixels(source: string | Blob, preset: Preset): Promise<Pixels> {
  const blob = typeof source === 'string' ? await (await fetch(source)).blob() : source;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error(`the image${source instanceof File ? ` "${source.name}"` : ''} could not be decoded (PNG, JPEG, WebP, GIF or BMP)`);
  }
  const canvas = new OffscreenCanvas(preset.width, preset.height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('this browser gives no 2D canvas');
  context.drawImage(bitmap, 0, 0, preset.width, preset.height);
  bitmap.close();
  return context.getImageData(0, 0, preset.width, preset.height);
}

function channelValue(value: number | readonly number[], c: number): number {
  return typeof value === 'number' ? value : (value[c] ?? Number.NaN);
}

/**
 * The model input for one image, shape [1, C, H, W] (NCHW) or [1, H, W, C]
 * (NHWC): x = (p · scale − mean_c) / std_c, where p is the channel value,
 * or for one channel the luminance 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601).
 */
export function toTensor(pixels: Pixels, preset: Preset, layout: Layout): HostTensor {
  const { width, height, channels } = preset;
  const data = new Float32Array(width * height * channels);
  const rgba = pixels.data;
  for (let i = 0; i < width * height; i++) {
    const r = rgba[4 * i] ?? 0;
    const g = rgba[4 * i + 1] ?? 0;
    const b = rgba[4 * i + 2] ?? 0;
    const values = channels === 1 ? [0.299 * r + 0.587 * g + 0.114 * b] : [r, g, b];
    for (let c = 0; c < channels; c++) {
      const x = ((values[c] ?? 0) * preset.scale - channelValue(preset.mean, c)) / channelValue(preset.std, c);
      data[layout === 'NCHW' ? c * width * height + i : i * channels + c] = x;
    }
  }
  return hostTensor(data, layout === 'NCHW' ? [1, channels, height, width] : [1, height, width, channels]);
}
