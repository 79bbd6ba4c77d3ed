import type { MethodRule } from './rule.js';

/**
 * SmoothGrad², docs/methods.md "SmoothGrad²":
 *
 *   smoothgrad_squared(x) = (1/N) Σ_{i=1..N} g(x + ε_i)²
 *
 * Each noisy row's gradient is squared and the squares averaged, computed
 * from the rows' moments as M2/N + mean² (never as a difference, so it stays
 * ≥ 0). Unsigned; the method-name grammar gives it no modifiers.
 */
export const smoothgradSquared: MethodRule = {
  name: 'smoothgrad_squared',
  rows: 'noisy-samples',
  takesModifiers: false,
  signed: false,
  reduce: ({ count, mean, m2 }) => m2 / count + mean * mean,
};
