import { describe, expect, it } from 'vitest';
import { oneFlipCheck } from './helpers/one-flip.js';
import { uniformValues } from './helpers/check-gradient.js';

/*
 * The VarGrad test's one-flip check (helpers/one-flip.ts) on made-up
 * per-sample gradients: 2 examples × 5 samples × 6 elements, the reference's
 * mean and variance computed here in float64.
 */
const EXAMPLES = 2;
const SAMPLES = 5;
const SIZE = 6;

function moments(gradients: ArrayLike<number>): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(EXAMPLES * SIZE);
  const variance = new Float64Array(EXAMPLES * SIZE);
  for (let b = 0; b < EXAMPLES; b++) {
    for (let i = 0; i < SIZE; i++) {
      const values = Array.from({ length: SAMPLES }, (_, n) => gradients[(b * SAMPLES + n) * SIZE + i]!);
      const m = values.reduce((a, v) => a + v, 0) / SAMPLES;
      mean[b * SIZE + i] = m;
      variance[b * SIZE + i] = values.reduce((a, v) => a + (v - m) ** 2, 0) / SAMPLES;
    }
  }
  return { mean, variance };
}

const reference = Float64Array.from(uniformValues(EXAMPLES * SAMPLES * SIZE, 11));
const { mean, variance } = moments(reference);
const move = (g: Float64Array, index: number, by: number): void => {
  g[index] = g[index]! + by;
};
const changed = (edit: (g: Float64Array) => void): Float64Array => {
  const g = reference.slice();
  edit(g);
  return g;
};

describe('oneFlipCheck', () => {
  it('the reference itself: no correction, no residual, its own variance', () => {
    const check = oneFlipCheck(reference, mean, variance, EXAMPLES, SAMPLES);
    expect(check.correction).toBeLessThan(1e-12);
    expect(check.residual).toBeLessThan(1e-12);
    check.uncorrected.forEach((v, i) => expect(v).toBeCloseTo(variance[i]!, 12));
  });

  it('one sample moved (example 1, sample 3): corrected exactly, the correction is the move', () => {
    const ours = changed((g) => {
      move(g, (1 * SAMPLES + 3) * SIZE + 2, 0.05);
      move(g, (1 * SAMPLES + 3) * SIZE + 4, -0.02);
    });
    const check = oneFlipCheck(ours, mean, variance, EXAMPLES, SAMPLES);
    const meanScale = Math.max(...mean.map(Math.abs));
    expect(check.correction).toBeCloseTo(0.05 / meanScale, 10);
    expect(check.residual).toBeLessThan(1e-12);
    expect(Math.max(...check.uncorrected.map((v, i) => Math.abs(v - variance[i]!)))).toBeGreaterThan(1e-3);
  });

  it('two samples moved: not explained', () => {
    const ours = changed((g) => {
      move(g, (0 * SAMPLES + 1) * SIZE + 2, 0.05);
      move(g, (0 * SAMPLES + 4) * SIZE + 2, -0.05);
    });
    expect(oneFlipCheck(ours, mean, variance, EXAMPLES, SAMPLES).residual).toBeGreaterThan(1e-3);
  });

  it('every gradient 1 % larger: not explained', () => {
    const ours = reference.map((v) => v * 1.01);
    expect(oneFlipCheck(ours, mean, variance, EXAMPLES, SAMPLES).residual).toBeGreaterThan(1e-4);
  });

  it('refuses gradients of the wrong size', () => {
    expect(() => oneFlipCheck(reference.subarray(1), mean, variance, EXAMPLES, SAMPLES)).toThrow(/gradient values/);
  });
});
