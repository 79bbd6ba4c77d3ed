import { AttributionError } from '@saliency/core';
import type { GradientRule } from '../ops/op-definition.js';
import { DECONVNET } from './deconvnet.js';
import { GUIDED_BACKPROP } from './guided-backprop.js';

/**
 * A modified backward pass over the same rule table (docs/methods.md,
 * "Modified backward rules"): the rules of some op types replaced, every
 * other op differentiated by its ordinary vector–Jacobian product from
 * ops/. Guided Backprop and DeconvNet replace ReLU's rule; LRP rule sets
 * will replace those of the linear layers the same way.
 */
export interface BackwardRuleSet {
  /** The name a method asks for, e.g. `guided_backprop`. */
  readonly name: string;
  /** The replacing rule per op type. */
  readonly overrides: ReadonlyMap<string, GradientRule>;
}

const RULE_SETS: ReadonlyMap<string, BackwardRuleSet> = new Map([GUIDED_BACKPROP, DECONVNET].map((set) => [set.name, set]));

/** The names of the rule sets this backend runs, for the `GradientBackend` capability. */
export const BACKWARD_RULE_SET_NAMES: readonly string[] = [...RULE_SETS.keys()];

/** The rule set of that name; an unknown one is `INVALID_OPTION`, naming those there are. */
export function backwardRuleSet(name: string): BackwardRuleSet {
  const set = RULE_SETS.get(name);
  if (set === undefined) {
    throw new AttributionError(
      'INVALID_OPTION',
      `backward rule set ${JSON.stringify(name)} is unknown to the ONNX backend; it runs ${BACKWARD_RULE_SET_NAMES.join(', ')}`,
    );
  }
  return set;
}
