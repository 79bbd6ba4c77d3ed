import { describe, expect, it } from 'vitest';
import { AttributionError } from '../src/errors.js';
import {
  imageToTensor,
  mapToSource,
  parsePreset,
  planGeometry,
  resample,
  resizeBilinear,
  resolvePreprocess,
  type Preprocess,
} from '../src/preprocess/index.js';
import type { RgbaImage, ScalarMap } from '../src/visualize/image.js';

/** An image whose pixels are given as [r, g, b] with alpha 255. */
function rgb(width: number, height: number, pixels: number[][]): RgbaImage {
  return { width, height, data: Uint8ClampedArray.from(pixels.flatMap((p) => [...p, 255])) };
}

/** A gray image from one value per pixel. */
function gray(width: number, height: number, values: number[]): RgbaImage {
  return rgb(
    width,
    height,
    values.map((v) => [v, v, v]),
  );
}

/** The red channel of every pixel, row-major. */
function reds(image: RgbaImage): number[] {
  return Array.from({ length: image.width * image.height }, (_, p) => image.data[4 * p]!);
}

const base: Preprocess = {
  width: 2,
  height: 1,
  fit: 'stretch',
  grayscale: false,
  scale: 1,
  mean: [0],
  std: [1],
  layout: 'NCHW',
  channelOrder: 'RGB',
};

describe('resizeBilinear (half-pixel centres)', () => {
  it('upsamples 2 → 4 pixels', () => {
    // u = (x + 0.5) · 2/4 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamped 0, 0.25, 0.75, 1
    // values 0 and 100: 0, 25, 75, 100
    const out = resizeBilinear(gray(2, 1, [0, 100]), 4, 1);
    expect(reds(out)).toEqual([0, 25, 75, 100]);
    expect(out.data[3]).toBe(255);
  });

  it('downsamples 4 × 2 → 2 × 1 by blending four neighbours', () => {
    // u = (x + 0.5) · 2 − 0.5 = 0.5, 2.5;  v = 0.5 · 2 − 0.5 = 0.5
    // row 0: 0, 40, 80, 120; row 1: 20, 60, 100, 140
    // out(0) = mean(0, 40, 20, 60) = 30; out(1) = mean(80, 120, 100, 140) = 110
    const out = resizeBilinear(gray(4, 2, [0, 40, 80, 120, 20, 60, 100, 140]), 2, 1);
    expect(reds(out)).toEqual([30, 110]);
  });
});

describe('fitting geometry', () => {
  it('center-crop scales to cover and cuts the overhang evenly', () => {
    // 4 × 2 → 2 × 2: scale max(2/4, 2/2) = 1, so the middle 2 × 2 of the image, columns 1 and 2.
    const g = planGeometry({ width: 4, height: 2 }, { width: 2, height: 2 }, 'center-crop');
    expect(g.from).toEqual({ x: 1, y: 0, width: 2, height: 2 });
    expect(g.to).toEqual({ x: 0, y: 0, width: 2, height: 2 });
    expect(reds(resample(gray(4, 2, [0, 40, 80, 120, 20, 60, 100, 140]), g))).toEqual([40, 80, 60, 100]);
  });

  it('center-crop of a landscape photo to a square keeps its middle square', () => {
    // 1024 × 768 → 28 × 28: scale 28/768, the crop is 768 × 768 from x = 128.
    const g = planGeometry({ width: 1024, height: 768 }, { width: 28, height: 28 }, 'center-crop');
    expect(g.from.x).toBeCloseTo(128, 9);
    expect(g.from.width).toBeCloseTo(768, 9);
    expect(g.from.y).toBeCloseTo(0, 9);
    expect(g.from.height).toBeCloseTo(768, 9);
  });

  it('letterbox scales to fit, centres and pads with black', () => {
    // 4 × 2 → 4 × 4: scale min(4/4, 4/2) = 1, the image on rows 1 and 2, rows 0 and 3 black.
    const g = planGeometry({ width: 4, height: 2 }, { width: 4, height: 4 }, 'letterbox');
    expect(g.to).toEqual({ x: 0, y: 1, width: 4, height: 2 });
    const out = resample(gray(4, 2, [0, 40, 80, 120, 20, 60, 100, 140]), g);
    expect(reds(out)).toEqual([0, 0, 0, 0, 0, 40, 80, 120, 20, 60, 100, 140, 0, 0, 0, 0]);
    expect(out.data[3]).toBe(255);
  });

  it('letterbox of 2 × 1 into 4 × 4 upsamples by 2 onto rows 1 and 2', () => {
    // scale min(4/2, 4/1) = 2: 4 × 2 at y = 1; per row, u = (x + 0.5)/2 − 0.5 as in the 2 → 4 resize.
    const g = planGeometry({ width: 2, height: 1 }, { width: 4, height: 4 }, 'letterbox');
    expect(g.to).toEqual({ x: 0, y: 1, width: 4, height: 2 });
    expect(reds(resample(gray(2, 1, [0, 100]), g))).toEqual([0, 0, 0, 0, 0, 25, 75, 100, 0, 25, 75, 100, 0, 0, 0, 0]);
  });
});

describe('mapToSource: a map of the model input back at the image size', () => {
  /** A map whose value at (x, y) is y · width + x. */
  const indexMap = (width: number, height: number): ScalarMap => ({
    width,
    height,
    data: Float32Array.from({ length: width * height }, (_, i) => i),
  });

  it('undoes a stretch with the same bilinear rule', () => {
    // 4 × 1 map [0, 25, 75, 100] back to 2 × 1: x = (X + 0.5) · 2 − 0.5 = 0.5, 2.5 → 12.5, 87.5.
    const g = planGeometry({ width: 2, height: 1 }, { width: 4, height: 1 }, 'stretch');
    const back = mapToSource({ width: 4, height: 1, data: Float32Array.from([0, 25, 75, 100]) }, g);
    expect(back.width).toBe(2);
    expect(back.height).toBe(1);
    expect([...back.data]).toEqual([12.5, 87.5]);
  });

  it('undoes a letterbox, reading only the image rows', () => {
    // 2 × 1 → 4 × 4, image on rows 1–2. Source pixel X samples the map at x = 0.5 (X = 0), 2.5 (X = 1),
    // y = 1 + 0.5 · 2 − 0.5 = 1.5: the mean of rows 1, 2 and columns 0, 1 (4, 5, 8, 9 → 6.5) or 2, 3 (6, 7, 10, 11 → 8.5).
    const g = planGeometry({ width: 2, height: 1 }, { width: 4, height: 4 }, 'letterbox');
    expect([...mapToSource(indexMap(4, 4), g).data]).toEqual([6.5, 8.5]);
  });

  it('undoes a center-crop, with the cut-off columns set to the outside value', () => {
    // 4 × 2 → 2 × 2 from columns 1–2: source columns 1, 2 are map columns 0, 1; columns 0 and 3 were not seen.
    const g = planGeometry({ width: 4, height: 2 }, { width: 2, height: 2 }, 'center-crop');
    expect([...mapToSource(indexMap(2, 2), g).data]).toEqual([0, 0, 1, 0, 0, 2, 3, 0]);
    expect([...mapToSource(indexMap(2, 2), g, Number.NaN).data.slice(0, 2)]).toEqual([Number.NaN, 0]);
  });

  it('gives a constant map back as the same constant over a photo-sized letterbox', () => {
    const g = planGeometry({ width: 1024, height: 768 }, { width: 28, height: 28 }, 'letterbox');
    expect(g.to).toEqual({ x: 0, y: 3, width: 28, height: 21 });
    const back = mapToSource({ width: 28, height: 28, data: new Float32Array(28 * 28).fill(0.25) }, g);
    expect(back.data.length).toBe(1024 * 768);
    expect(back.data.every((v) => v === 0.25)).toBe(true);
  });

  it('refuses a map of another size than the geometry’s target', () => {
    const g = planGeometry({ width: 4, height: 2 }, { width: 2, height: 2 }, 'stretch');
    expect(() => mapToSource(indexMap(3, 2), g)).toThrow(/the map is 3 × 2; the geometry's target is 2 × 2/);
  });
});

describe('imageToTensor', () => {
  const two = rgb(2, 1, [
    [10, 20, 30],
    [40, 50, 60],
  ]);

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

  it('fits the image as asked and returns the geometry to map back with', () => {
    // center-crop of 4 × 2 gray to 2 × 2: columns 1, 2 → 40, 80, 60, 100, scaled by 1/20.
    const { tensor, resized, geometry } = imageToTensor(gray(4, 2, [0, 40, 80, 120, 20, 60, 100, 140]), {
      ...base,
      width: 2,
      height: 2,
      fit: 'center-crop',
      grayscale: true,
      scale: 1 / 20,
    });
    expect([...tensor.data].map((v) => Math.round(v * 1e6) / 1e6)).toEqual([2, 4, 3, 5]);
    expect(reds(resized)).toEqual([40, 80, 60, 100]);
    expect(geometry.from).toEqual({ x: 1, y: 0, width: 2, height: 2 });
  });
});

describe('presets', () => {
  const preset = { width: 28, height: 28, channels: 1, scale: 0.5, mean: [0.1], std: 0.3, layout: { onnx: 'NCHW', tfjs: 'NHWC' } };

  it('picks the layout of the runtime library, and later settings win', () => {
    expect(parsePreset(preset, 'tfjs', 'p').layout).toBe('NHWC');
    const resolved = resolvePreprocess({ ...parsePreset(preset, 'onnx', 'p'), width: 32 }, { width: 5, height: 5 }, 'onnx');
    expect(resolved).toEqual({
      width: 32,
      height: 28,
      fit: 'stretch',
      grayscale: true,
      scale: 0.5,
      mean: [0.1],
      std: [0.3],
      layout: 'NCHW',
      channelOrder: 'RGB',
    });
  });

  it('defaults to the image size, stretch, RGB, 1/255 and the library’s usual layout', () => {
    expect(resolvePreprocess({}, { width: 5, height: 7 }, 'tfjs')).toEqual({
      width: 5,
      height: 7,
      fit: 'stretch',
      grayscale: false,
      scale: 1 / 255,
      mean: [0],
      std: [1],
      layout: 'NHWC',
      channelOrder: 'RGB',
    });
  });

  it('refuses bad values with INVALID_OPTION, naming the key', () => {
    const refused = (json: unknown, message: RegExp) => {
      expect(() => parsePreset(json, 'onnx', 'p.json')).toThrow(message);
      expect(() => parsePreset(json, 'onnx', 'p.json')).toThrow(AttributionError);
    };
    refused({ channels: 2 }, /p\.json: "channels" must be 1 or 3; got 2/);
    refused({ layout: { tfjs: 'NHWC' } }, /"layout" must be .*"onnx" key/);
    refused({ fit: 'cover' }, /"fit" must be "stretch", "center-crop", "letterbox"; got "cover"/);
    refused([1], /p\.json: a preset must be a JSON object/);
    refused({ mean: [] }, /"mean" must be a number or a list of numbers/);
  });

  it('refuses a std of 0 and a mean or std of the wrong length', () => {
    expect(() => resolvePreprocess({ std: [0] }, { width: 1, height: 1 }, 'onnx')).toThrow(/std must not be 0/);
    expect(() => resolvePreprocess({ mean: [1, 2] }, { width: 1, height: 1 }, 'onnx')).toThrow(
      /mean has 2 values; give one, or one per channel \(3\)/,
    );
    expect(() => resolvePreprocess({ grayscale: true, std: [1, 2, 3] }, { width: 1, height: 1 }, 'onnx')).toThrow(
      /std has 3 values; give one, or one per channel \(1\)/,
    );
  });
});
