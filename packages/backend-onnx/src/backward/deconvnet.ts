import type { GradientContext } from '../ops/op-definition.js';
import type { BackwardRuleSet } from './rule-set.js';

/**
 * DeconvNet (Zeiler & Fergus 2014; docs/methods.md, "Modified backward
 * rules"): ReLU applies itself to the cotangent and ignores the forward
 * input, x̄ = max(ȳ, 0).
 */
export const DECONVNET: BackwardRuleSet = {
  name: 'deconvnet',
  overrides: () => new Map([['Relu', (g: GradientContext) => [g.op('Relu', [g.dy(0)!])]]]),
};
