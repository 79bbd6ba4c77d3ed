import type { MethodRule } from './rule.js';

/**
 * Integrated Gradients by the right Riemann sum, docs/methods.md
 * "Integrated Gradients":
 *
 *   ig(x) = (x − x') ⊙ (1/m) Σ_{k=1..m} g(x' + (k/m)(x − x'))
 *
 * m = `steps` path points per example from the baseline x' (`baseline`,
 * default 0); their gradients reduce to the mean, which is then multiplied
 * by x − x'. Signed.
 */
export const integratedGradients: MethodRule = {
  name: 'integrated_gradients',
  rows: 'path-points',
  takesModifiers: true,
  signed: true,
  reduce: ({ mean }) => mean,
  finish: (value, x, baseline) => value * (x - baseline),
};
