import type { MethodRule } from './rule.js';

/**
 * Gradient (saliency), docs/methods.md "Gradient":
 *
 *   gradient(x) = g(x),   g(x) = ∂f_t(x)/∂x
 *
 * One row per example, the example itself; its gradient is the map. Signed.
 */
export const gradient: MethodRule = {
  name: 'gradient',
  rows: 'input',
  takesModifiers: true,
  signed: true,
  reduce: ({ mean }) => mean,
};
