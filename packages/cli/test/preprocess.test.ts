import { describe, expect, it } from 'vitest';
import type { RgbaImage } from '@saliency/core/visualize';
import { imageToTensor, resizeBilinear, type Preprocess } from '../src/preprocess.js';
import { parsePreset, resolvePreprocess } from '../src/preset.js';

/** An image whose pixels are given as [r, g, b] with alpha 255. */
function rgb(width: number, height: number, pixels: number[][]): RgbaImage {
  return { width, height, data: Uint8ClampedArray.from(pixels.flatMap((p) => [...p, 255])) };
}

const base: Preprocess = { width: 2, height: 1, grayscale: false, scale: 1, mean: [0], std: [1], layout: 'NCHW', channelOrder: 'RGB' };

describe('resizeBilinear (half-pixel centres)', () => {
  it('upsamples 2 → 4 pixels', () => {
    // u = (x + 0.5) · 2/4 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamped 0, 0.25, 0.75, 1
    // values 0 and 100: 0, 25, 75, 100
    const out = resizeBilinear(rgb(2, 1, [[0, 0, 0], [100, 100, 100]]), 4, 1);
    expect([0, 1, 2, 3].map((x) => out.data[4 * x])).toEqual([0, 25, 75, 100]);
    expect(out.data[3]).toBe(255);
  });

  it('downsamples 4 × 2 → 2 × 1 by blending four neighbours', () => {
    // u = (x + 0.5) · 2 − 0.5 = 0.5, 2.5;  v = 0.5 · 2 − 0.5 = 0.5
    // row 0: 0, 40, 80, 120; row 1: 20, 60, 100, 140
    // out(0) = mean(0, 40, 20, 60) = 30; out(1) = mean(80, 120, 100, 140) = 110
    const image = rgb(4, 2, [0, 40, 80, 120, 20, 60, 100, 140].map((v) => [v, v, v]));
    const out = resizeBilinear(image, 2, 1);
    expect([out.data[0], out.data[4]]).toEqual([30, 110]);
  });
});

describe('imageToTensor', () => {
  const two = rgb(2, 1, [[10, 20, 30], [40, 50, 60]]);

  it('lays out NCHW and NHWC, RGB and BGR', () => {
    expect([...imageToTensor(two, base).tensor.data]).toEqual([10, 40, 20, 50, 30, 60]);
    expect(imageToTensor(two, base).tensor.shape).toEqual([1, 3, 1, 2]);
    const nhwc = imageToTensor(two, { ...base, layout: 'NHWC' }).tensor;
    expect([...nhwc.data]).toEqual([10, 20, 30, 40, 50, 60]);
    expect(nhwc.shape).toEqual([1, 1, 2, 3]);
    expect([...imageToTensor(two, { ...base, layout: 'NHWC', channelOrder: 'BGR' }).tensor.data]).toEqual([30, 20, 10, 60, 50, 40]);
  });

  it('scales, subtracts the mean and divides by std per channel', () => {
    // (p · 0.5 − mean_c) / std_c with mean (1, 2, 3), std (1, 2, 4), NHWC:
    // pixel 0: (5 − 1)/1, (10 − 2)/2, (15 − 3)/4 = 4, 4, 3; pixel 1: 19, 11.5, 6.75
    const out = imageToTensor(two, { ...base, layout: 'NHWC', scale: 0.5, mean: [1, 2, 3], std: [1, 2, 4] }).tensor;
    expect([...out.data]).toEqual([4, 4, 3, 19, 11.5, 6.75]);
  });

  it('converts to grayscale with BT.601 luma', () => {
    // 0.299 · 10 + 0.587 · 20 + 0.114 · 30 = 18.15 → (18.15 · 0.5 − 1) / 2 = 4.0375
    const out = imageToTensor(rgb(1, 1, [[10, 20, 30]]), { ...base, width: 1, grayscale: true, scale: 0.5, mean: [1], std: [2] }).tensor;
    expect(out.shape).toEqual([1, 1, 1, 1]);
    expect(out.data[0]).toBeCloseTo(4.0375, 5);
  });

  it('refuses a mean or std with the wrong number of values', () => {
    expect(() => imageToTensor(two, { ...base, mean: [1, 2] })).toThrow(/--mean has 2 values; give one, or one per channel \(3\)/);
  });
});

describe('presets', () => {
  const preset = { width: 28, height: 28, channels: 1, scale: 0.5, mean: [0.1], std: 0.3, layout: { onnx: 'NCHW', tfjs: 'NHWC' } };

  it('picks the layout of the model format, and flags win', () => {
    expect(parsePreset(preset, 'tfjs', 'p').layout).toBe('NHWC');
    const resolved = resolvePreprocess(parsePreset(preset, 'onnx', 'p'), { width: 32 }, { width: 5, height: 5 }, 'onnx');
    expect(resolved).toEqual({ width: 32, height: 28, grayscale: true, scale: 0.5, mean: [0.1], std: [0.3], layout: 'NCHW', channelOrder: 'RGB' });
  });

  it('defaults to the image size, RGB, 1/255 and the format’s usual layout', () => {
    expect(resolvePreprocess({}, {}, { width: 5, height: 7 }, 'tfjs')).toEqual({
      width: 5, height: 7, grayscale: false, scale: 1 / 255, mean: [0], std: [1], layout: 'NHWC', channelOrder: 'RGB',
    });
  });

  it('refuses bad values naming the key', () => {
    expect(() => parsePreset({ channels: 2 }, 'onnx', 'p.json')).toThrow(/p\.json: "channels" must be 1 or 3; got 2/);
    expect(() => parsePreset({ layout: { tfjs: 'NHWC' } }, 'onnx', 'p.json')).toThrow(/"layout" must be .*"onnx" key/);
  });
});
