import { describe, expect, it } from 'vitest';
import {
  AttributionError,
  explain,
  hostTensor,
  isSignedMethod,
  parseLrpRuleSet,
  parseMethodName,
  registerMethod,
  type GradientBackend,
  type GradientRequest,
} from '../src/index.js';
import { closedFormBackend, quadraticModel } from './closed-form-models.js';

const x = hostTensor([0.3, -0.7, 0.5, 1.1, -0.4, 0], [2, 3]);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(AttributionError);
    return (e as AttributionError).code;
  }
  return undefined;
}

describe('LRP method names (docs/methods.md, "LRP")', () => {
  it("read SignXAI's prefixes as the first layers' rule and the factor core applies", () => {
    expect(parseMethodName('lrp_epsilon_0_1')).toEqual({ base: 'lrp_epsilon_0_1', modifiers: { input: true, sign: false, mu: 0 } });
    expect(parseMethodName('lrpz_epsilon_0_1').modifiers).toEqual({ input: true, sign: false, mu: 0 });
    expect(parseMethodName('lrpsign_epsilon_0_25_std_x_mu_neg_0_5')).toEqual({
      base: 'lrpsign_epsilon_0_25_std_x',
      modifiers: { input: false, sign: true, mu: -0.5 },
    });
    expect(parseMethodName('w2lrp_alpha_1_beta_0').modifiers).toEqual({ input: false, sign: false, mu: 0 });
    expect(parseMethodName('zblrp_z_VGG16ILSVRC').modifiers).toEqual({ input: false, sign: false, mu: 0 });
    expect(isSignedMethod('lrp_zplus')).toBe(true);
  });

  it('stand for rule sets per layer position and kind', () => {
    const epsilon = (value: number, stdX = false) => ({ kind: 'epsilon', epsilon: value, stdX });
    expect(parseLrpRuleSet('lrpz_epsilon_0_25_std_x')).toEqual({
      first: epsilon(0),
      conv: epsilon(0.25, true),
      dense: epsilon(0.25, true),
    });
    expect(parseLrpRuleSet('lrp_alpha_2_beta_1')?.conv).toEqual({ kind: 'alpha_beta', alpha: 2, beta: 1 });
    expect(parseLrpRuleSet('lrp_epsilon_plus_flat')).toEqual({ first: { kind: 'flat' }, conv: { kind: 'zplus' }, dense: epsilon(1e-6) });
    expect(parseLrpRuleSet('flatlrp_sequential_composite_b')).toEqual({
      first: { kind: 'flat' },
      conv: { kind: 'alpha_beta', alpha: 2, beta: 1 },
      dense: epsilon(0.1),
    });
    expect(parseLrpRuleSet('zblrp_gamma_0_25_VGG16ILSVRC')?.first).toEqual({ kind: 'box', low: -123.68, high: 151.061 });
    // lrpsign_ is a method, not a rule set: its pass is lrpz_'s.
    expect(parseLrpRuleSet('lrpsign_z')).toBeUndefined();
  });

  it('refuse what the grammar does not hold', () => {
    expect(codeOf(() => parseMethodName('lrp_alpha_3_beta_1'))).toBe('UNKNOWN_METHOD'); // α − β ≠ 1 does not conserve
    expect(codeOf(() => parseMethodName('zblrp_z'))).toBe('UNKNOWN_METHOD'); // SignXAI's bounds come with _VGG16ILSVRC
    expect(codeOf(() => parseMethodName('lrp_epsilon_0_1_mu_0_5'))).toBe('UNKNOWN_METHOD'); // μ is SIGN's
    expect(codeOf(() => parseMethodName('lrp_epsilon_0_1_x_input'))).toBe('UNKNOWN_METHOD');
    expect(codeOf(() => registerMethod({ name: 'lrp_z', rows: 'input', takesModifiers: false, signed: true, reduce: () => 0 }))).toBe(
      'INVALID_METHOD',
    );
  });

  it('are refused before any work by a backend without LRP, and asked of one with it by rule set name', async () => {
    const inner = closedFormBackend(quadraticModel(3, 2));
    const refused = await explain(inner, 'lrp_z', x).catch((e: unknown) => e);
    expect((refused as AttributionError).code).toBe('UNSUPPORTED_METHOD');
    expect(inner.calls.logits + inner.calls.gradients).toBe(0);

    const requests: Array<GradientRequest | undefined> = [];
    const backend: GradientBackend = {
      name: 'recording',
      backwardRuleSets: ['lrp'],
      logits: (input) => inner.logits(input),
      gradients: (input, targets, request) => {
        requests.push(request);
        return inner.gradients(input, targets);
      },
    };
    const c = await explain(inner, 'gradient', x, { target: [0, 1] });
    const sign = await explain(backend, 'lrpsign_epsilon_0_1_mu_0_5', x, { target: [0, 1] });
    const times = await explain(backend, 'lrp_epsilon_0_1', x, { target: [0, 1] });
    const flat = await explain(backend, 'flatlrp_z', x, { target: [0, 1] });
    expect(requests.map((request) => request?.backward)).toEqual(['lrpz_epsilon_0_1', 'lrp_epsilon_0_1', 'flatlrp_z']);
    // SIGN-μ: s_μ(x) = −1 where x < 0.5, +1 elsewhere; ×x for lrp_; as returned for a first-layer rule.
    expect(Array.from(sign.data)).toEqual(Array.from(c.data, (v, i) => Math.fround(v * (x.data[i]! < 0.5 ? -1 : 1))));
    expect(Array.from(times.data)).toEqual(Array.from(c.data, (v, i) => Math.fround(v * x.data[i]!)));
    expect(Array.from(flat.data)).toEqual(Array.from(c.data));
  });
});
