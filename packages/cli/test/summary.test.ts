import { describe, expect, it } from 'vitest';
import { colourBarHeight, formatLevel, withColourBar } from '../src/legend.js';
import { formatRunSummary, softmax, summarizeClasses } from '../src/summary.js';
import { DIVERGING, SEQUENTIAL, sampleColormap } from '@saliency/core/visualize';

describe('class summary', () => {
  it('gives softmax probabilities of K > 1 logits, stable for large logits', () => {
    // logits (0, ln 3) → (1/4, 3/4); shifting every logit by 1000 changes nothing
    const p = softmax([0, Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
    const shifted = softmax([1000, 1000 + Math.log(3)]);
    expect(shifted[1]).toBeCloseTo(0.75, 12);
  });

  it('lists the target and the top k, best first, the lower index first on ties', () => {
    // e^z ∝ (1, 2, 2, 4) / 9
    const s = summarizeClasses([0, Math.log(2), Math.log(2), Math.log(4)], 1, 3);
    expect(s.kind).toBe('probability');
    expect(s.target).toBe(1);
    expect(s.score).toBeCloseTo(2 / 9, 12);
    expect(s.top.map((t) => t.index)).toEqual([3, 1, 2]);
    expect(s.top[0]!.score).toBeCloseTo(4 / 9, 12);
  });

  it('shows a single output as its logit', () => {
    const s = summarizeClasses([-2.5], 0, 5);
    expect(s).toMatchObject({ kind: 'logit', score: -2.5, top: [{ index: 0, score: -2.5 }] });
    const text = formatRunSummary({
      method: 'vargrad',
      backend: 'onnx-node',
      classes: s,
      loadMs: 400,
      explainMs: 61_000,
      mapShape: [1, 12],
      written: ['m.npy'],
    });
    expect(text).toBe(
      'explained class 0 (logit -2.500) with vargrad on onnx-node\n' +
        'time: 0.4s loading (model read, first forward pass), 1m01s explaining\n' +
        'map [1, 12] written to m.npy\n',
    );
  });
});

describe('colour bar', () => {
  it('writes clipping levels in a few characters', () => {
    expect(formatLevel(0.0093456)).toBe('0.0093');
    expect(formatLevel(3.44)).toBe('3.4');
    expect(formatLevel(1.234e-7)).toBe('1.2e-7');
    expect(formatLevel(123456)).toBe('120000');
    expect(formatLevel(1234567)).toBe('1.2e6');
  });

  it('adds a strip under the image, leaving the image as it was, with the colormap from end to end', () => {
    const image = { width: 300, height: 2, data: new Uint8ClampedArray(300 * 2 * 4).fill(7) };
    const map = Float32Array.from({ length: 600 }, (_, i) => i);
    for (const [kind, stops] of [
      ['sequential', SEQUENTIAL],
      ['diverging', DIVERGING],
    ] as const) {
      const out = withColourBar(image, map, kind);
      expect([out.width, out.height]).toEqual([300, 2 + colourBarHeight(300)]);
      expect(out.data.subarray(0, image.data.length).every((v) => v === 7)).toBe(true);
      // s = 2 at 300 px: the bar starts 4 px in, at row 2 + 4
      const pixel = (x: number, y: number) => Array.from(out.data.subarray(4 * (y * 300 + x), 4 * (y * 300 + x) + 3));
      expect(pixel(4, 2 + 4 + 2)).toEqual([...sampleColormap(stops, 0)]);
      expect(pixel(300 - 4 - 1, 2 + 4 + 2)).toEqual([...sampleColormap(stops, 1)]);
      expect(pixel(0, 2 + 1)).toEqual([255, 255, 255]);
    }
  });
});
