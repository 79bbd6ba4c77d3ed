import { describe, expect, it } from 'vitest';
import { fillStandardNormal } from '../src/index.js';

function normals(length: number, seed: number, example: number, sample: number): Float64Array {
  const out = new Float64Array(length);
  fillStandardNormal(out, seed, example, sample);
  return out;
}

describe('seeded Gaussian noise', () => {
  it('has mean 0 and variance 1 within bounds set by the sample size', () => {
    const n = 1 << 18;
    const z = normals(n, 7, 0, 0);
    const mean = z.reduce((s, v) => s + v, 0) / n;
    const variance = z.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    // Standard errors: 1/√n for the mean, √(2/n) for the variance; allow 5 of them.
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    // Fourth moment of a normal is 3; its standard error is √(96/n).
    const kurtosis = z.reduce((s, v) => s + (v - mean) ** 4, 0) / n / variance ** 2;
    expect(Math.abs(kurtosis - 3)).toBeLessThan(5 * Math.sqrt(96 / n));
    // The tails of a normal: P(|z| > 2) = 0.0455.
    const beyond2 = z.filter((v) => Math.abs(v) > 2).length / n;
    expect(Math.abs(beyond2 - 0.0455)).toBeLessThan(5 * Math.sqrt((0.0455 * 0.9545) / n));
  });

  it('is uncorrelated between neighbouring elements, samples, examples and seeds', () => {
    const n = 1 << 16;
    const base = normals(n, 1, 0, 0);
    const pairs: Array<[string, Float64Array, Float64Array]> = [
      ['next element', base.subarray(0, n - 1), base.subarray(1)],
      ['next sample', base, normals(n, 1, 0, 1)],
      ['next example', base, normals(n, 1, 1, 0)],
      ['next seed', base, normals(n, 2, 0, 0)],
    ];
    for (const [what, a, b] of pairs) {
      const r = a.reduce((s, v, i) => s + v * b[i]!, 0) / a.length;
      expect(Math.abs(r), what).toBeLessThan(5 / Math.sqrt(a.length));
    }
  });

  it('depends only on (seed, example, sample, element), not on how much is generated', () => {
    const long = normals(1001, 3, 2, 5);
    for (const length of [1, 2, 3, 4, 5, 17, 1000]) {
      expect(normals(length, 3, 2, 5)).toEqual(long.subarray(0, length));
    }
    expect(normals(16, 3, 2, 5)).toEqual(normals(16, 3, 2, 5));
    expect(normals(16, 3, 2, 5)).not.toEqual(normals(16, 4, 2, 5));
  });

  it('keys seeds above 2^32 by both halves', () => {
    expect(normals(8, 2 ** 32, 0, 0)).not.toEqual(normals(8, 0, 0, 0));
    expect(normals(8, 2 ** 32 + 5, 0, 0)).not.toEqual(normals(8, 5, 0, 0));
  });
});
