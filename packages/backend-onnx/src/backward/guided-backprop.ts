import type { GradientContext } from '../ops/op-definition.js';
import { maskOf, scalar } from '../ops/rule-helpers.js';
import type { BackwardRuleSet } from './rule-set.js';

/**
 * Guided Backprop (Springenberg et al. 2015; docs/methods.md, "Modified
 * backward rules"): ReLU passes the cotangent only where the forward input
 * was positive and the cotangent itself is positive,
 * x̄ = [x > 0] · max(ȳ, 0).
 */
export const GUIDED_BACKPROP: BackwardRuleSet = {
  name: 'guided_backprop',
  overrides: () => new Map([['Relu', (g: GradientContext) => [g.op('Mul', [g.op('Relu', [g.dy(0)!]), inputPositive(g)])]]]),
};

/** [x > 0] in the input's float type. */
function inputPositive(g: GradientContext): string {
  const type = g.input(0).dataType;
  return maskOf(g, g.op('Greater', [g.inputName(0), scalar(g, 0, type)]), type);
}
