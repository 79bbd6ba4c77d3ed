import type { Modifiers } from './method-name.js';
import type { MethodRule } from './rule.js';

/*
 * Layer-wise Relevance Propagation's names (docs/methods.md, "LRP"): the
 * grammar of SignXAI's LRP method names and the rule sets they stand for.
 * One home for it: core turns a method name into a rule set name, and a
 * backend (backend-onnx) turns that name into its rules with
 * `parseLrpRuleSet`.
 */

/** The rule of a Conv, Gemm or MatMul layer. ε = 0 is the z-rule. */
export type LrpLayerRule =
  | { readonly kind: 'epsilon'; readonly epsilon: number; readonly stdX: boolean }
  | { readonly kind: 'zplus' }
  | { readonly kind: 'alpha_beta'; readonly alpha: number; readonly beta: number }
  | { readonly kind: 'gamma'; readonly gamma: number };

/**
 * A rule only for the first layers (those reading the model input): their
 * result is the input's relevance itself, not a factor of x. A box without
 * bounds takes each example's own minimum and maximum.
 */
export type LrpInputRule =
  | { readonly kind: 'w_square' }
  | { readonly kind: 'flat' }
  | { readonly kind: 'box'; readonly low?: number; readonly high?: number };

/** Which rule each linear layer gets: the first layers, then convolutions and dense layers (Gemm, MatMul). */
export interface LrpRuleSet {
  readonly first: LrpLayerRule | LrpInputRule;
  readonly conv: LrpLayerRule;
  readonly dense: LrpLayerRule;
}

/** The name a backend lists in `backwardRuleSets` to say it runs every LRP rule set of this grammar. */
export const LRP_RULE_SET_FAMILY = 'lrp';

/** SignXAI's bounds of VGG16's ImageNet input (caffe preprocessing), for its `zblrp_*_VGG16ILSVRC` names. */
const VGG16_ILSVRC_BOX = { kind: 'box', low: -123.68, high: 151.061 } as const;
const NUMBER = '(\\d+(?:_\\d+)?)';
const EPSILON = new RegExp(`^epsilon_${NUMBER}(_std_x)?$`);
const GAMMA = new RegExp(`^gamma_${NUMBER}$`);
const ALPHA_BETA = /^alpha_(\d+)_beta_(\d+)$/;
const PREFIX = /^(lrp|lrpz|lrpsign|w2lrp|flatlrp|zblrp)_(.+)$/;

const number = (text: string) => Number(text.replace('_', '.'));
const epsilon = (value: number, stdX = false): LrpLayerRule => ({ kind: 'epsilon', epsilon: value, stdX });
const uniform = (rule: LrpLayerRule): LrpRuleSet => ({ first: rule, conv: rule, dense: rule });

/** The rule set of one rule name (the part after the prefix), e.g. `epsilon_0_25_std_x`; undefined if none. */
function ruleSetOf(rule: string): LrpRuleSet | undefined {
  switch (rule) {
    case 'z':
      return uniform(epsilon(0));
    case 'zplus':
      return uniform({ kind: 'zplus' });
    // Zennit's composites, with its default ε = 1e-6 and γ = 0.25.
    case 'epsilon_plus_flat':
      return { first: { kind: 'flat' }, conv: { kind: 'zplus' }, dense: epsilon(1e-6) };
    case 'epsilon_gamma_box':
      return { first: { kind: 'box' }, conv: { kind: 'gamma', gamma: 0.25 }, dense: epsilon(1e-6) };
    // iNNvestigate's sequential presets A and B, with its ε = 0.1 on dense layers.
    case 'sequential_composite_a':
      return { first: { kind: 'alpha_beta', alpha: 1, beta: 0 }, conv: { kind: 'alpha_beta', alpha: 1, beta: 0 }, dense: epsilon(0.1) };
    case 'sequential_composite_b':
      return { first: { kind: 'alpha_beta', alpha: 2, beta: 1 }, conv: { kind: 'alpha_beta', alpha: 2, beta: 1 }, dense: epsilon(0.1) };
  }
  let match = EPSILON.exec(rule);
  if (match) return uniform(epsilon(number(match[1]!), match[2] !== undefined));
  match = GAMMA.exec(rule);
  if (match) return uniform({ kind: 'gamma', gamma: number(match[1]!) });
  match = ALPHA_BETA.exec(rule);
  if (match) {
    const [alpha, beta] = [Number(match[1]), Number(match[2])];
    // Relevance is conserved only when α − β = 1 (Bach et al. 2015).
    if (alpha - beta === 1) return uniform({ kind: 'alpha_beta', alpha, beta });
  }
  return undefined;
}

/**
 * The rule set a backward name stands for: `<prefix>_<rule>` with prefix
 * `lrp` (each layer its rule), `lrpz` (the first layers the z-rule), `w2lrp`
 * (w²), `flatlrp` (flat) or `zblrp` (zB, with the name ending in
 * `_VGG16ILSVRC`, SignXAI's bounds); undefined for any other name.
 */
export function parseLrpRuleSet(name: string): LrpRuleSet | undefined {
  const match = PREFIX.exec(name);
  if (match === null || match[1] === 'lrpsign') return undefined;
  const [, prefix, rest] = match as unknown as [string, string, string];
  const boxed = prefix === 'zblrp';
  if (boxed !== rest.endsWith('_VGG16ILSVRC')) return undefined;
  const set = ruleSetOf(boxed ? rest.slice(0, -'_VGG16ILSVRC'.length) : rest);
  if (set === undefined) return undefined;
  switch (prefix) {
    case 'lrpz':
      return { ...set, first: epsilon(0) };
    case 'w2lrp':
      return { ...set, first: { kind: 'w_square' } };
    case 'flatlrp':
      return { ...set, first: { kind: 'flat' } };
    case 'zblrp':
      return { ...set, first: VGG16_ILSVRC_BOX };
    default:
      return set;
  }
}

/**
 * Whether a backend offering `offered` (its `backwardRuleSets`) runs the
 * backward pass `name`: it lists the name, or the name is an LRP rule set and
 * it lists the family `lrp`.
 */
export function runsBackward(offered: readonly string[] | undefined, name: string): boolean {
  if (offered === undefined) return false;
  return offered.includes(name) || (offered.includes(LRP_RULE_SET_FAMILY) && parseLrpRuleSet(name) !== undefined);
}

/** Whether the first layers' rule gives relevance itself (w², flat, zB) rather than a factor of x. */
export function isInputRule(rule: LrpLayerRule | LrpInputRule): rule is LrpInputRule {
  return rule.kind === 'w_square' || rule.kind === 'flat' || rule.kind === 'box';
}

/** A parsed LRP method: its rule (a modified backward pass) and the factors core applies to its result. */
export interface LrpMethod {
  readonly rule: MethodRule;
  readonly modifiers: Modifiers;
}

const methods = new Map<string, LrpMethod>();

/**
 * The LRP method of a name without `_mu_` (e.g. `lrpsign_epsilon_0_1`), or
 * undefined. The backend returns c with R = x ⊙ c for the ratio rules, so
 * `lrp_*` and `lrpz_*` multiply by x (×input), and `lrpsign_*` — the z-rule
 * on the first layers with x replaced by s_μ(x) (SIGN, SIGN-μ) — by s_μ(x)
 * (×sign); `w2lrp_*`, `flatlrp_*` and `zblrp_*` give relevance as it is.
 */
export function lrpMethod(name: string): LrpMethod | undefined {
  const known = methods.get(name);
  if (known !== undefined) return known;
  const sign = name.startsWith('lrpsign_');
  const backward = sign ? `lrpz_${name.slice('lrpsign_'.length)}` : name;
  const set = parseLrpRuleSet(backward);
  if (set === undefined) return undefined;
  const method: LrpMethod = {
    rule: { name, rows: 'input', takesModifiers: false, signed: true, backward, reduce: ({ mean }) => mean },
    modifiers: { input: !sign && !isInputRule(set.first), sign, mu: 0 },
  };
  methods.set(name, method);
  return method;
}
