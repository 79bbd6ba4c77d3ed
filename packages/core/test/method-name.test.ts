import { describe, expect, it } from 'vitest';
import { AttributionError, METHOD_NAMES, parseMethodName } from '../src/index.js';

describe('parseMethodName', () => {
  it('knows every method of the spec', () => {
    expect([...METHOD_NAMES].sort()).toEqual(
      [
        'gradient',
        'gradient_x_input',
        'gradient_x_sign',
        'gradient_x_input_x_sign',
        'smoothgrad',
        'smoothgrad_x_input',
        'smoothgrad_x_sign',
        'smoothgrad_x_input_x_sign',
        'smoothgrad_squared',
        'vargrad',
        'vargrad_x_input',
        'vargrad_x_sign',
        'vargrad_x_input_x_sign',
        'integrated_gradients',
        'integrated_gradients_x_input',
        'integrated_gradients_x_sign',
        'integrated_gradients_x_input_x_sign',
        'guided_backprop',
        'guided_backprop_x_input',
        'guided_backprop_x_sign',
        'guided_backprop_x_input_x_sign',
        'deconvnet',
        'deconvnet_x_input',
        'deconvnet_x_sign',
        'deconvnet_x_input_x_sign',
        'grad_cam',
        'grad_cam_timeseries',
        'grad_cam_plus_plus',
      ].sort(),
    );
  });

  it.each([
    ['vargrad', 'vargrad', false, false, 0],
    ['vargrad_x_input', 'vargrad', true, false, 0],
    ['vargrad_x_sign', 'vargrad', false, true, 0],
    ['vargrad_x_input_x_sign', 'vargrad', true, true, 0],
    ['smoothgrad_squared', 'smoothgrad_squared', false, false, 0],
    ['integrated_gradients_x_sign_mu_1', 'integrated_gradients', false, true, 1],
    ['vargrad_x_sign_mu_neg_0_5', 'vargrad', false, true, -0.5],
    ['gradient_x_input_x_sign_mu_0_25', 'gradient', true, true, 0.25],
    ['vargrad_x_sign_mu_neg_2', 'vargrad', false, true, -2],
  ] as const)('parses %s', (name, base, input, sign, mu) => {
    expect(parseMethodName(name)).toEqual({ base, modifiers: { input, sign, mu } });
  });

  it('refuses an unknown name and lists the known ones', () => {
    const error = (() => {
      try {
        parseMethodName('vargrad_x_magic');
      } catch (e) {
        return e as AttributionError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(AttributionError);
    expect(error.code).toBe('UNKNOWN_METHOD');
    expect(error.message).toContain('"vargrad_x_magic"');
    for (const name of METHOD_NAMES) expect(error.message).toContain(name);
  });

  it.each(['vargrad_x_sign_mu_', 'vargrad_x_sign_mu_abc', 'vargrad_x_sign_mu_0_5_1', 'vargrad_x_sign_mu_neg_'])(
    'refuses the malformed μ in %s',
    (name) => expect(() => parseMethodName(name)).toThrow(/not a valid μ/),
  );

  it('refuses a μ on a method without a sign', () => {
    expect(() => parseMethodName('vargrad_x_input_mu_0_5')).toThrow(/needs a _x_sign method/);
  });

  it('refuses modifiers on smoothgrad_squared, which the spec does not define', () => {
    expect(() => parseMethodName('smoothgrad_squared_x_input')).toThrow(/unknown method/);
  });
});
