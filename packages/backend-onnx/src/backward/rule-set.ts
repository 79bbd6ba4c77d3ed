import { AttributionError, LRP_RULE_SET_FAMILY } from '@saliency/core';
import type { GradientRule } from '../ops/op-definition.js';
import type { NodeProto } from '../proto/onnx_pb.js';
import { DECONVNET } from './deconvnet.js';
import { GUIDED_BACKPROP } from './guided-backprop.js';
import { lrpRuleSet } from './lrp.js';

/** What a rule set may look at before it gives its rules: the path the gradient takes. */
export interface BackwardPath {
  /** The model input differentiated. */
  readonly inputName: string;
  /** The forward nodes that carry the input's gradient, in graph order. */
  readonly nodes: readonly NodeProto[];
}

/**
 * A modified backward pass over the same rule table (docs/methods.md,
 * "Modified backward rules"): the rules of some op types replaced, every
 * other op differentiated by its ordinary vector–Jacobian product from
 * ops/. Guided Backprop and DeconvNet replace ReLU's rule; the LRP rule sets
 * (`lrp.ts`) those of the linear layers.
 */
export interface BackwardRuleSet {
  /** The name a method asks for, e.g. `guided_backprop`. */
  readonly name: string;
  /** The replacing rule per op type for this path; throws, naming the node, for a path it cannot take. */
  overrides(path: BackwardPath): ReadonlyMap<string, GradientRule>;
  /** Whether each BatchNormalization is folded into the Conv before it first (`passes/fold-batch-norm.ts`). */
  readonly foldsBatchNorm?: boolean;
}

const RULE_SETS: ReadonlyMap<string, BackwardRuleSet> = new Map([GUIDED_BACKPROP, DECONVNET].map((set) => [set.name, set]));

/**
 * The names of the rule sets this backend runs, for the `GradientBackend`
 * capability; `lrp` stands for every LRP rule set (`parseLrpRuleSet` of core).
 */
export const BACKWARD_RULE_SET_NAMES: readonly string[] = [...RULE_SETS.keys(), LRP_RULE_SET_FAMILY];

/** The rule set of that name; an unknown one is `INVALID_OPTION`, naming those there are. */
export function backwardRuleSet(name: string): BackwardRuleSet {
  const set = RULE_SETS.get(name) ?? lrpRuleSet(name);
  if (set === undefined) {
    throw new AttributionError(
      'INVALID_OPTION',
      `backward rule set ${JSON.stringify(name)} is unknown to the ONNX backend; it runs ${BACKWARD_RULE_SET_NAMES.join(', ')} ` +
        `(lrp: the LRP rule sets named as in docs/methods.md, "LRP", e.g. lrp_epsilon_0_1)`,
    );
  }
  return set;
}
