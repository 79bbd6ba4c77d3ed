import type { MethodRule } from './rule.js';

/**
 * DeconvNet, docs/methods.md "Modified backward rules": the input "gradient"
 * of the target logit through a backward pass in which every ReLU applies
 * itself to the cotangent, whatever its forward input. The backend runs that
 * pass (its `deconvnet` rule set). Signed.
 */
export const deconvnet: MethodRule = {
  name: 'deconvnet',
  rows: 'input',
  takesModifiers: true,
  signed: true,
  backward: 'deconvnet',
  reduce: ({ mean }) => mean,
};
