import { describe, expect, it } from 'vitest';
import { explain, hostTensor } from '../src/index.js';
import { closedFormBackend, linearModel, quadraticModel } from './closed-form-models.js';

/**
 * Expectations derived by hand from the formulas, not from any code path:
 * for f(x) = Σ a_j x_j² + b·x, g(x + ε) = 2a ⊙ (x + ε) + b, so
 * VarGrad → 4a²σ², SmoothGrad → 2a ⊙ x + b, SmoothGrad² → (2a ⊙ x + b)² + 4a²σ²,
 * and Integrated Gradients from 0 with m steps = (x) ⊙ (2a ⊙ x (m+1)/(2m) + b).
 */
describe('closed-form expectations', () => {
  const model = quadraticModel(5, 1);
  const a = Float64Array.from(
    { length: 5 },
    (_, j) =>
      (model.gradient(
        Float64Array.from({ length: 5 }, (_, i) => (i === j ? 1 : 0)),
        0,
      )[j]! -
        model.gradient(new Float64Array(5), 0)[j]!) /
      2,
  );
  const b = model.gradient(new Float64Array(5), 0);
  const x = hostTensor([0.5, -1, 2, 0, -0.25], [1, 5]);
  const n = 4096;
  const sigma = 0.7;
  // The sample variance of N normals has relative standard error √(2/(N−1)); allow 5 of them.
  const varianceTolerance = 5 * Math.sqrt(2 / (n - 1));

  it('VarGrad of a quadratic is 4a²σ²', async () => {
    const map = await explain(closedFormBackend(model), 'vargrad', x, { numSamples: n, noiseScale: sigma, batchSize: 512 });
    map.data.forEach((v, j) => {
      const expected = 4 * a[j]! ** 2 * sigma ** 2;
      expect(Math.abs(v / expected - 1)).toBeLessThan(varianceTolerance);
    });
  });

  it('VarGrad with noiseLevel uses σ = level · (max x − min x)', async () => {
    const level = 0.2;
    const sigmaOfX = level * (2 - -1);
    const map = await explain(closedFormBackend(model), 'vargrad', x, { numSamples: n, noiseLevel: level, batchSize: 512 });
    map.data.forEach((v, j) => {
      expect(Math.abs(v / (4 * a[j]! ** 2 * sigmaOfX ** 2) - 1)).toBeLessThan(varianceTolerance);
    });
  });

  it('unbiased VarGrad is N/(N−1) times the population one', async () => {
    const options = { numSamples: 5, noiseScale: sigma, seed: 3 };
    const population = await explain(closedFormBackend(model), 'vargrad', x, options);
    const unbiased = await explain(closedFormBackend(model), 'vargrad', x, { ...options, unbiased: true });
    unbiased.data.forEach((v, j) => expect(v / population.data[j]!).toBeCloseTo(5 / 4, 5));
  });

  it('SmoothGrad of a quadratic tends to its gradient at x', async () => {
    const map = await explain(closedFormBackend(model), 'smoothgrad', x, { numSamples: n, noiseScale: sigma, batchSize: 512 });
    const g = model.gradient(Float64Array.from(x.data), 0);
    map.data.forEach((v, j) => {
      // Standard error of the mean gradient: 2|a|σ/√N.
      expect(Math.abs(v - g[j]!)).toBeLessThan((5 * 2 * Math.abs(a[j]!) * sigma) / Math.sqrt(n));
    });
  });

  it('SmoothGrad² of a quadratic tends to g(x)² + 4a²σ²', async () => {
    const map = await explain(closedFormBackend(model), 'smoothgrad_squared', x, { numSamples: n, noiseScale: sigma, batchSize: 512 });
    const g = model.gradient(Float64Array.from(x.data), 0);
    map.data.forEach((v, j) => {
      const expected = g[j]! ** 2 + 4 * a[j]! ** 2 * sigma ** 2;
      expect(Math.abs(v / expected - 1)).toBeLessThan(0.1);
    });
  });

  it('Integrated Gradients of a quadratic from 0 is x ⊙ (2a ⊙ x (m+1)/(2m) + b)', async () => {
    const m = 10;
    const map = await explain(closedFormBackend(model), 'integrated_gradients', x, { steps: m });
    map.data.forEach((v, j) => {
      const xj = x.data[j]!;
      expect(v).toBeCloseTo(xj * ((2 * a[j]! * xj * (m + 1)) / (2 * m) + b[j]!), 5);
    });
  });

  it('Integrated Gradients of a linear model is exact: (x − x′) ⊙ W_t, and sums to f(x) − f(x′)', async () => {
    const linear = linearModel(5, 2);
    const baseline = hostTensor([1, 1, 1, 1, 1], [5]);
    const map = await explain(closedFormBackend(linear), 'integrated_gradients', x, { steps: 3, baseline, target: 1 });
    const w = linear.gradient(new Float64Array(5), 1);
    map.data.forEach((v, j) => expect(v).toBeCloseTo((x.data[j]! - 1) * w[j]!, 6));
    const sum = map.data.reduce((s, v) => s + v, 0);
    const delta = linear.logits(Float64Array.from(x.data))[1]! - linear.logits(new Float64Array(5).fill(1))[1]!;
    expect(sum).toBeCloseTo(delta, 5);
  });

  it('VarGrad of a linear model is exactly 0 (the 1e-10 threshold removes float residue)', async () => {
    const map = await explain(closedFormBackend(linearModel(5, 2)), 'vargrad', x, { numSamples: 16, batchSize: 5 });
    expect([...map.data]).toEqual([0, 0, 0, 0, 0]);
  });

  it('the sign modifier counts 0 as positive, and μ moves the threshold', async () => {
    const backend = closedFormBackend(linearModel(5, 1));
    const g = await explain(backend, 'gradient', x);
    const signed = await explain(backend, 'gradient_x_sign', x);
    expect([...signed.data]).toEqual([...g.data].map((v, j) => (x.data[j]! < 0 ? -v : v)));
    expect(x.data[3]).toBe(0);
    const mu = await explain(backend, 'gradient_x_sign_mu_neg_0_5', x);
    // x = [0.5, -1, 2, 0, -0.25]: only −1 lies below μ = −0.5.
    expect([...mu.data]).toEqual([...g.data].map((v, j) => (j === 1 ? -v : v)));
    const both = await explain(backend, 'gradient_x_input_x_sign', x);
    both.data.forEach((v, j) => expect(v).toBeCloseTo(Math.abs(x.data[j]!) * g.data[j]!, 6));
  });
});
