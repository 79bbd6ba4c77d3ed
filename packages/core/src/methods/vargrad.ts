import type { MethodRule } from './rule.js';

/** VarGrad values below this magnitude are float noise and are set to exactly 0 (docs/methods.md, "VarGrad"). */
export const VARIANCE_ZERO_THRESHOLD = 1e-10;

/**
 * VarGrad, docs/methods.md "VarGrad":
 *
 *   vargrad(x) = (1/N) Σ_{i=1..N} (g(x + ε_i) − ḡ)²,   ḡ = (1/N) Σ_i g(x + ε_i)
 *
 * over N = `numSamples` noisy rows per example, reduced to the summed squared
 * deviations M2 (Welford/Chan, never Σg² − N·ḡ²) and divided by N, or by
 * N − 1 with `unbiased` (which then needs N ≥ 2). A value whose magnitude is
 * below `VARIANCE_ZERO_THRESHOLD` is set to exactly 0. Unsigned.
 */
export const vargrad: MethodRule = {
  name: 'vargrad',
  rows: 'noisy-samples',
  takesModifiers: true,
  signed: false,
  reduce: ({ count, m2 }, { unbiased }) => {
    const variance = m2 / (unbiased ? count - 1 : count);
    return Math.abs(variance) < VARIANCE_ZERO_THRESHOLD ? 0 : variance;
  },
  minimumRows: ({ unbiased }) => (unbiased ? { rows: 2, why: ' with unbiased: true (it divides by N − 1)' } : undefined),
};
