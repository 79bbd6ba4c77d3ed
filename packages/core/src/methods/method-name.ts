import { AttributionError } from '../errors.js';

/** The methods that take gradients; modifiers multiply their result. */
export const BASE_METHODS = [
  'gradient',
  'smoothgrad',
  'smoothgrad_squared',
  'vargrad',
  'integrated_gradients',
] as const;
export type BaseMethod = (typeof BASE_METHODS)[number];

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

const SUFFIXES = ['', '_x_input', '_x_sign', '_x_input_x_sign'] as const;

/** Every method name without a `_mu_<v>` suffix, e.g. `vargrad_x_sign`. */
export const METHOD_NAMES: readonly string[] = BASE_METHODS.flatMap((base) =>
  // SmoothGrad² is its own method in the spec's table, without modifiers.
  base === 'smoothgrad_squared' ? [base] : SUFFIXES.map((suffix) => base + suffix),
);

const MU_NUMBER = /^(neg_)?(\d+)(?:_(\d+))?$/;

/**
 * Parses SignXAI's method-name grammar: a base name, then `_x_input`,
 * `_x_sign` or `_x_input_x_sign`, then optionally `_mu_<v>` where `<v>` writes
 * the number with `_` for the point and `neg_` for a minus:
 * `vargrad_x_sign_mu_neg_0_5` is VarGrad × sign with μ = −0.5.
 */
export function parseMethodName(name: string): MethodName {
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
      `unknown method "${name}"; known methods: ${METHOD_NAMES.join(', ')} ` +
        `(each may end in _mu_<v>, e.g. vargrad_x_sign_mu_neg_0_5)`,
    );
  }
  const suffix = SUFFIXES.find((s) => s !== '' && head.endsWith(s) && BASE_METHODS.includes(head.slice(0, -s.length) as BaseMethod)) ?? '';
  const base = head.slice(0, head.length - suffix.length) as BaseMethod;
  const sign = suffix.includes('_x_sign');
  if (muAt >= 0 && !sign) {
    throw new AttributionError(
      'UNKNOWN_METHOD',
      `method "${name}": _mu_ sets the threshold of the sign, so it needs a _x_sign method such as ${head}_x_sign`,
    );
  }
  return { base, modifiers: { input: suffix.includes('_x_input'), sign, mu } };
}
