import type { MethodRule } from './rule.js';

/**
 * SmoothGrad, docs/methods.md "SmoothGrad":
 *
 *   smoothgrad(x) = (1/N) Σ_{i=1..N} g(x + ε_i),   ε_i ~ N(0, σ²) element-wise
 *
 * N = `numSamples` noisy rows per example; they reduce to their mean. Signed.
 */
export const smoothgrad: MethodRule = {
  name: 'smoothgrad',
  rows: 'noisy-samples',
  takesModifiers: true,
  signed: true,
  reduce: ({ mean }) => mean,
};
