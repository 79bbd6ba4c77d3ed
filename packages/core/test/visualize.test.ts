import { describe, expect, it } from 'vitest';
import {
  aggregateChannels,
  DIVERGING,
  normalizeSymmetric,
  normalizeUnsigned,
  overlay,
  percentile,
  renderHeatmap,
  sampleColormap,
  SEQUENTIAL,
  type RgbaImage,
} from '../src/visualize/index.js';

// Every expected value below is worked out by hand in the comment beside it.

describe('percentile (NumPy "linear")', () => {
  it('interpolates between the two nearest ranks', () => {
    // r = 0.99 · 4 = 3.96 → 30 + 0.96 · (40 − 30) = 39.6
    expect(percentile([40, 0, 30, 10, 20], 99)).toBeCloseTo(39.6, 12);
    // 1..101: r = 0.99 · 100 = 99 → a[99] = 100
    expect(
      percentile(
        Array.from({ length: 101 }, (_, i) => i + 1),
        99,
      ),
    ).toBe(100);
    expect(percentile([3, 1, 2], 0)).toBe(1);
    expect(percentile([3, 1, 2], 100)).toBe(3);
  });

  it('refuses p outside [0, 100] and empty input', () => {
    expect(() => percentile([1], 101)).toThrow(/p must be in \[0, 100\]/);
    expect(() => percentile([], 50)).toThrow(/no values/);
  });
});

describe('normalizeSymmetric (SignXAI-style)', () => {
  it('clips at the 99th percentile of |R| and scales both signs by it', () => {
    // |R| sorted: 0, 10, 25, 50, 100; r = 3.96 → c = 50 + 0.96 · 50 = 98
    const out = normalizeSymmetric([-50, 0, 10, 25, 100]);
    const expected = [-50 / 98, 0, 10 / 98, 25 / 98, 1];
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });

  it('clips the negative side at −1 too', () => {
    // percentile 50 of |R| = {1, 2, 4} is 2 → R' = [−1 (−4/2 clipped), 0.5, 1]
    expect([...normalizeSymmetric([-4, 1, 2], { percentile: 50 })]).toEqual([-1, 0.5, 1]);
  });

  it('maps an all-zero map to zeros', () => {
    expect([...normalizeSymmetric([0, 0, 0])]).toEqual([0, 0, 0]);
  });

  it('normalizeUnsigned scales by the same level and drops negatives', () => {
    // c = P100(|R|) = 4 → [0 (negative), 0.25, 0.5, 1]
    expect([...normalizeUnsigned([-1, 1, 2, 4], { percentile: 100 })]).toEqual([0, 0.25, 0.5, 1]);
  });
});

describe('aggregateChannels', () => {
  // channel 0 = [1, −2, 3, −4], channel 1 = [−5, 1, −1, 2] over a 2 × 2 image
  const chw = [1, -2, 3, -4, -5, 1, -1, 2];
  const hwc = [1, -5, -2, 1, 3, -1, -4, 2];

  it.each([
    ['sum', [-4, -1, 2, -2]],
    ['mean', [-2, -0.5, 1, -1]],
    ['max-abs', [-5, -2, 3, -4]],
  ] as const)('%s over [C, H, W] and [H, W, C]', (mode, expected) => {
    const a = aggregateChannels(chw, [2, 2, 2], 'CHW', mode);
    const b = aggregateChannels(hwc, [1, 2, 2, 2], 'HWC', mode);
    expect({ width: a.width, height: a.height }).toEqual({ width: 2, height: 2 });
    expect([...a.data]).toEqual(expected);
    expect([...b.data]).toEqual(expected);
  });

  it('max-abs keeps the first channel on a tie, with its sign', () => {
    expect([...aggregateChannels([2, -2], [1, 1, 2], 'HWC', 'max-abs').data]).toEqual([2]);
  });

  it('takes a [H, W] map as it is, width from the last axis', () => {
    const m = aggregateChannels([1, 2, 3, 4, 5, 6], [2, 3], 'CHW');
    expect([m.width, m.height, ...m.data]).toEqual([3, 2, 1, 2, 3, 4, 5, 6]);
  });

  it('refuses other shapes and modes', () => {
    expect(() => aggregateChannels([1], [1], 'CHW')).toThrow(/\[H, W\], \[C, H, W\] or \[H, W, C\]/);
    expect(() => aggregateChannels([1], [1, 1], 'CHW', 'median' as never)).toThrow(/sum, mean, max-abs/);
  });
});

describe('colormaps', () => {
  it('diverging: dark blue, white, dark red at −1, 0, +1 (ColorBrewer RdBu)', () => {
    expect(sampleColormap(DIVERGING, 0)).toEqual([0x05, 0x30, 0x61]);
    expect(sampleColormap(DIVERGING, 0.5)).toEqual([0xf7, 0xf7, 0xf7]);
    expect(sampleColormap(DIVERGING, 1)).toEqual([0x67, 0x00, 0x1f]);
  });

  it('interpolates linearly between stops', () => {
    // t = 0.25 → s = 2.5: halfway between #4393c3 (67, 147, 195) and #92c5de (146, 197, 222)
    // → (106.5, 172, 208.5) rounded half up → (107, 172, 209)
    expect(sampleColormap(DIVERGING, 0.25)).toEqual([107, 172, 209]);
    expect(sampleColormap(DIVERGING, -3)).toEqual(sampleColormap(DIVERGING, 0));
    expect(sampleColormap(DIVERGING, 7)).toEqual(sampleColormap(DIVERGING, 1));
  });

  it('sequential: viridis endpoints and midpoint agree with matplotlib’s float table', () => {
    // matplotlib _viridis_data[0], [255] and the mean of [127] and [128], times 255
    const matplotlib = [
      [0, [0.267004, 0.004874, 0.329415]],
      [0.5, [(0.128729 + 0.127568) / 2, (0.563265 + 0.566949) / 2, (0.551229 + 0.550556) / 2]],
      [1, [0.993248, 0.906157, 0.143936]],
    ] as const;
    for (const [t, rgb] of matplotlib) {
      const got = sampleColormap(SEQUENTIAL, t);
      rgb.forEach((v, c) => expect(Math.abs(got[c]! - v * 255)).toBeLessThanOrEqual(1));
    }
  });
});

describe('renderHeatmap', () => {
  it('diverging: −c → first stop, 0 → white, +c → last stop', () => {
    // c = P100(|R|) = 2 → t = (R/2 + 1)/2 = [0, 0.5, 0.75, 1]; t = 0.75 → s = 7.5:
    // halfway between #f4a582 (244, 165, 130) and #d6604d (214, 96, 77) → (229, 131, 104)
    const image = renderHeatmap({ width: 2, height: 2, data: Float32Array.of(-2, 0, 1, 2) }, { percentile: 100 });
    expect([image.width, image.height]).toEqual([2, 2]);
    expect([...image.data]).toEqual([5, 48, 97, 255, 247, 247, 247, 255, 229, 131, 104, 255, 103, 0, 31, 255]);
  });

  it('sequential: 0 → dark purple, c → yellow', () => {
    // c = 4 → t = [0, 0.25, 0.5, 1] → stops 0, 2, 4, 8 of the viridis table
    const image = renderHeatmap({ width: 4, height: 1, data: Float32Array.of(0, 1, 2, 4) }, { colormap: 'sequential', percentile: 100 });
    expect([...image.data]).toEqual([68, 1, 84, 255, 59, 82, 139, 255, 33, 144, 140, 255, 253, 231, 37, 255]);
  });

  it('refuses data that does not fill width × height', () => {
    expect(() => renderHeatmap({ width: 2, height: 2, data: new Float32Array(3) })).toThrow(/needs 4 values; got 3/);
  });
});

describe('overlay', () => {
  const rgba = (...values: number[]): RgbaImage => ({ width: 1, height: 1, data: Uint8ClampedArray.from(values) });

  it('blends with alpha', () => {
    // 0.75 · (100, 50, 200) + 0.25 · (200, 250, 0) = (125, 100, 150); alpha of the image kept
    expect([...overlay(rgba(100, 50, 200, 255), rgba(200, 250, 0, 255), 0.25).data]).toEqual([125, 100, 150, 255]);
  });

  it('scales alpha by the heatmap’s own alpha', () => {
    // a = 128/255: r = (127·100 + 128·200)/255 = 150.2, g = (127·50 + 128·250)/255 = 150.4, b = 127·200/255 = 99.6
    expect([...overlay(rgba(100, 50, 200, 200), rgba(200, 250, 0, 128), 1).data]).toEqual([150, 150, 100, 200]);
  });

  it('refuses images of different sizes and alpha outside [0, 1]', () => {
    const two: RgbaImage = { width: 2, height: 1, data: new Uint8ClampedArray(8) };
    expect(() => overlay(rgba(0, 0, 0, 0), two)).toThrow(/1 × 1 but the heatmap 2 × 1/);
    expect(() => overlay(rgba(0, 0, 0, 0), rgba(0, 0, 0, 0), 2)).toThrow(/alpha must be in \[0, 1\]/);
  });
});
