import { describe, expect, it } from 'vitest';
import { MomentAccumulator } from '../src/index.js';

function twoPass(samples: number[][]): { mean: number[]; m2: number[] } {
  const n = samples.length;
  const size = samples[0]!.length;
  const mean = Array.from({ length: size }, (_, e) => samples.reduce((s, g) => s + g[e]!, 0) / n);
  const m2 = Array.from({ length: size }, (_, e) => samples.reduce((s, g) => s + (g[e]! - mean[e]!) ** 2, 0));
  return { mean, m2 };
}

describe('MomentAccumulator', () => {
  const samples = Array.from({ length: 37 }, (_, i) => [Math.sin(i), Math.cos(3 * i) * 5, 1e4 + Math.sin(7 * i) * 1e-2]);

  it('adds samples by Welford to the two-pass mean and M2', () => {
    const acc = new MomentAccumulator(3);
    for (const g of samples) acc.add(g);
    const expected = twoPass(samples);
    acc.mean.forEach((v, e) => expect(v).toBeCloseTo(expected.mean[e]!, 10));
    acc.m2.forEach((v, e) => expect(v / expected.m2[e]!).toBeCloseTo(1, 9));
  });

  it('merges groups of any split by Chan to the same moments', () => {
    const expected = twoPass(samples);
    for (const splits of [[37], [1, 36], [5, 5, 5, 22], [12, 12, 13], [36, 1]]) {
      const acc = new MomentAccumulator(3);
      let start = 0;
      for (const n of splits) {
        const group = samples.slice(start, start + n);
        start += n;
        const { mean, m2 } = twoPass(group);
        acc.merge(n, mean, m2);
      }
      expect(acc.count).toBe(37);
      acc.mean.forEach((v, e) => expect(v).toBeCloseTo(expected.mean[e]!, 10));
      acc.m2.forEach((v, e) => expect(v / expected.m2[e]!).toBeCloseTo(1, 8));
    }
  });

  it('keeps a small variance on a large mean, where Σg² − n·mean² in float32 fails', () => {
    const acc = new MomentAccumulator(1);
    const values = Array.from({ length: 64 }, (_, i) => Math.fround(1e4 + (i % 2 === 0 ? 1e-2 : -1e-2)));
    for (const v of values) acc.add([v]);
    const exact = twoPass(values.map((v) => [v])).m2[0]! / 64;
    expect(acc.variance(false)[0]! / exact).toBeCloseTo(1, 6);
    // The one-pass formula in float32 loses it entirely here.
    let sum = 0;
    let squares = 0;
    for (const v of values) {
      sum = Math.fround(sum + v);
      squares = Math.fround(squares + Math.fround(v * v));
    }
    const onePass = Math.fround(squares / 64 - Math.fround(sum / 64) ** 2);
    expect(Math.abs(onePass - exact) / exact).toBeGreaterThan(0.5);
  });

  it('gives the population or unbiased variance and the mean of squares', () => {
    const acc = new MomentAccumulator(1);
    for (const v of [1, 2, 3, 4]) acc.add([v]);
    expect(acc.variance(false)[0]).toBeCloseTo(1.25, 12);
    expect(acc.variance(true)[0]).toBeCloseTo(5 / 3, 12);
    expect(acc.meanOfSquares()[0]).toBeCloseTo(7.5, 12);
  });
});
