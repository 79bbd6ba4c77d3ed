import type { MethodRule } from './rule.js';

/**
 * Guided Backprop, docs/methods.md "Modified backward rules": the input
 * "gradient" of the target logit through a backward pass in which every ReLU
 * passes the cotangent only where its input was positive and the cotangent
 * is positive. The backend runs that pass (its `guided_backprop` rule set);
 * the map is what it returns. Signed (the linear layers mix signs).
 */
export const guidedBackprop: MethodRule = {
  name: 'guided_backprop',
  rows: 'input',
  takesModifiers: true,
  signed: true,
  backward: 'guided_backprop',
  reduce: ({ mean }) => mean,
};
