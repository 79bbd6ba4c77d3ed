import { AttributionError, describeValue } from '../errors.js';
import { BASE_METHODS, METHOD_NAMES, MODIFIER_SUFFIXES, methodRule } from './registry.js';

/** A registered base method's name, e.g. `vargrad`. */
export type BaseMethod = string;

/** Element-wise factors applied to a base method's map: `x ⊙` and `⊙ s_μ(x)`. */
export interface Modifiers {
  readonly input: boolean;
  readonly sign: boolean;
  /** Threshold of the sign: s_μ(x) = −1 where x < μ, +1 elsewhere. */
  readonly mu: number;
}

export interface MethodName {
  readonly base: BaseMethod;
  readonly modifiers: Modifiers;
}

const MU_NUMBER = /^(neg_)?(\d+)(?:_(\d+))?$/;

/**
 * Parses SignXAI's method-name grammar (docs/methods.md, "Method names"): a
 * registered base name, then `_x_input`, `_x_sign` or `_x_input_x_sign`,
 * then optionally `_mu_<v>` where `<v>` writes the number with `_` for the
 * point and `neg_` for a minus: `vargrad_x_sign_mu_neg_0_5` is VarGrad ×
 * sign with μ = −0.5.
 */
export function parseMethodName(name: string): MethodName {
  if (typeof name !== 'string') {
    throw new AttributionError('UNKNOWN_METHOD', `a method name must be a string; got ${describeValue(name)}`);
  }
  const muAt = name.indexOf('_mu_');
  const head = muAt < 0 ? name : name.slice(0, muAt);
  let mu = 0;
  if (muAt >= 0) {
    const match = MU_NUMBER.exec(name.slice(muAt + '_mu_'.length));
    if (!match) {
      throw new AttributionError(
        'UNKNOWN_METHOD',
        `method "${name}": "${name.slice(muAt + 1)}" is not a valid μ; write it as mu_0_5 for 0.5 or mu_neg_1 for −1`,
      );
    }
    mu = Number(`${match[1] ? '-' : ''}${match[2]}${match[3] ? `.${match[3]}` : ''}`);
  }
  if (!METHOD_NAMES.includes(head)) {
    throw new AttributionError(
      'UNKNOWN_METHOD',
      `unknown method "${name}"; known methods: ${METHOD_NAMES.join(', ')} (each may end in _mu_<v>, e.g. vargrad_x_sign_mu_neg_0_5)`,
    );
  }
  // Registration keeps suffixes out of base names, so the one suffix that
  // leaves a base name is the one.
  const suffix = MODIFIER_SUFFIXES.find((s) => s !== '' && head.endsWith(s) && BASE_METHODS.includes(head.slice(0, -s.length))) ?? '';
  const base = head.slice(0, head.length - suffix.length);
  const sign = suffix.includes('_x_sign');
  if (muAt >= 0 && !sign) {
    throw new AttributionError(
      'UNKNOWN_METHOD',
      `method "${name}": _mu_ sets the threshold of the sign, so it needs a _x_sign method such as ${head}_x_sign`,
    );
  }
  return { base, modifiers: { input: suffix.includes('_x_input'), sign, mu } };
}

/**
 * Whether the method's map can hold negative values: its rule is signed, or
 * a modifier multiplies it by x or s_μ(x). An unsigned map (VarGrad,
 * SmoothGrad²) is drawn with a sequential colormap, a signed one with a
 * diverging colormap.
 */
export function isSignedMethod(method: string | MethodName): boolean {
  const { base, modifiers } = typeof method === 'string' ? parseMethodName(method) : method;
  return methodRule(base).signed || modifiers.input || modifiers.sign;
}
