import { AttributionError, BASE_METHODS, methodRule, parseLrpRuleSet, VARIANCE_ZERO_THRESHOLD, type MethodRule } from '@saliency/core';
import type { GraphEmitter } from '../autodiff/graph-emitter.js';
import { DataType } from '../model/data-type.js';
import { EXPORTABLE_LAYER_METHODS } from './cam-in-graph.js';

/** One example's gradient moments as graph values of the map's shape: `count` rows, their mean and summed squared deviations. */
export interface MomentsInGraph {
  readonly count: number;
  mean(): string;
  m2(): string;
}

/** What a rule's graph form reads: the emitter, the moments, the options its reduction reads, and the path's span x − x'. */
export interface RuleGraphContext {
  readonly emitter: GraphEmitter;
  readonly moments: MomentsInGraph;
  readonly unbiased: boolean;
  /** x − x' of each example (path-point rows only). */
  span(): string;
}

/**
 * A rule's `reduce` and `finish` (packages/core/src/methods/rule.ts) as ONNX
 * nodes on float32 values. A rule's reduce is a JavaScript function, which
 * no graph can hold, so each built-in rule has its graph form here, written
 * from the formula in docs/methods.md; what rows it runs comes from the rule.
 */
interface RuleInGraph {
  reduce(context: RuleGraphContext): string;
  finish?(value: string, context: RuleGraphContext): string;
}

const scalar = (emitter: GraphEmitter, value: number) => emitter.literal([value], [1], DataType.FLOAT);

const mean: RuleInGraph = { reduce: ({ moments }) => moments.mean() };

/** M2/N (or M2/(N − 1)), set to exactly 0 below VARIANCE_ZERO_THRESHOLD; by a multiplication with the test as 0/1, so that no Where is needed. */
const variance: RuleInGraph = {
  reduce: ({ emitter, moments, unbiased }) => {
    const value = emitter.node('Div', [moments.m2(), scalar(emitter, unbiased ? moments.count - 1 : moments.count)], 1)[0]!;
    const magnitude = emitter.node('Abs', [value], 1)[0]!;
    const small = emitter.node('Less', [magnitude, scalar(emitter, VARIANCE_ZERO_THRESHOLD)], 1)[0]!;
    const kept = emitter.node('Not', [small], 1)[0]!;
    const keep = emitter.node('Cast', [kept], 1, { to: { int: DataType.FLOAT } })[0]!;
    return emitter.node('Mul', [value, keep], 1)[0]!;
  },
};

/** M2/N + mean², the mean of the squared gradients. */
const meanSquare: RuleInGraph = {
  reduce: ({ emitter, moments }) => {
    const spread = emitter.node('Div', [moments.m2(), scalar(emitter, moments.count)], 1)[0]!;
    const square = emitter.node('Mul', [moments.mean(), moments.mean()], 1)[0]!;
    return emitter.node('Add', [spread, square], 1)[0]!;
  },
};

const timesSpan: RuleInGraph = {
  ...mean,
  finish: (value, { emitter, span }) => emitter.node('Mul', [value, span()], 1)[0]!,
};

/** The built-in rules by identity: a method registered later under another name has none, whatever its reduce does. */
const BUILT_IN = new Map<MethodRule, RuleInGraph>([
  [methodRule('gradient'), mean],
  [methodRule('smoothgrad'), mean],
  [methodRule('smoothgrad_squared'), meanSquare],
  [methodRule('vargrad'), variance],
  [methodRule('integrated_gradients'), timesSpan],
  // One row per example through a modified backward pass (the request's `backward`): the mean of one row is that row.
  [methodRule('guided_backprop'), mean],
  [methodRule('deconvnet'), mean],
]);

/** The registered base methods an attribution model can be exported for: the rules above and the layer methods. */
export const EXPORTABLE_METHODS: readonly string[] = BASE_METHODS.filter(
  (name) => BUILT_IN.has(methodRule(name)) || EXPORTABLE_LAYER_METHODS.includes(name),
);

/** What a refusal lists as exportable. */
const EXPORTABLE =
  `${EXPORTABLE_METHODS.join(', ')} (with the _x_input and _x_sign forms of those that take them), ` +
  'and every LRP name (lrp_<rule>, lrpz_, lrpsign_, w2lrp_, flatlrp_, zblrp_; docs/methods.md, "LRP")';

/**
 * An LRP method's rule: core makes one for each LRP name, unregistered (so
 * its name is no base method), with the LRP rule set as its backward pass.
 * Its map is that pass's result, the modifiers (×x, ×s_μ(x)) applied after.
 */
function isLrpRule(rule: MethodRule): boolean {
  return !BASE_METHODS.includes(rule.name) && rule.backward !== undefined && parseLrpRuleSet(rule.backward) !== undefined;
}

/** The graph form of a rule, or `INVALID_OPTION` for a rule registered with `registerMethod`, whose reduce exists only as JavaScript. */
export function ruleInGraph(rule: MethodRule): RuleInGraph {
  if (rule.layer !== undefined) throw new Error(`unreachable: layer method "${rule.name}" has its map from camInGraph`);
  const form = BUILT_IN.get(rule) ?? (isLrpRule(rule) ? mean : undefined);
  if (form === undefined) {
    throw new AttributionError(
      'INVALID_OPTION',
      `method "${rule.name}" cannot be exported: its reduce${rule.finish ? ' and finish are JavaScript functions' : ' is a JavaScript function'}, ` +
        `which an ONNX graph cannot hold; exportable methods: ${EXPORTABLE}`,
    );
  }
  return form;
}
