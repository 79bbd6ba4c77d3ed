import { describe, expect, it } from 'vitest';
import { hostTensor, isSignedMethod, METHOD_NAMES } from '../src/index.js';
import { referenceAttribution } from '../src/reference/index.js';
import { quadraticModel } from './closed-form-models.js';
import { INPUT_GRADIENT_METHODS } from './input-gradient-methods.js';

// The CLI draws unsigned maps with a sequential colormap: it asks isSignedMethod.
describe('isSignedMethod', () => {
  it('is false for VarGrad and SmoothGrad² without modifiers only (docs/methods.md, "Methods")', () => {
    const unsigned = METHOD_NAMES.filter((name) => !isSignedMethod(name));
    expect(unsigned.sort()).toEqual(['grad_cam', 'grad_cam_plus_plus', 'grad_cam_timeseries', 'smoothgrad_squared', 'vargrad']);
    expect(isSignedMethod('vargrad_x_sign_mu_neg_0_5')).toBe(true);
    expect(isSignedMethod({ base: 'vargrad', modifiers: { input: true, sign: false, mu: 0 } })).toBe(true);
  });

  it('an unsigned method gives no negative value, and every signed one can', () => {
    const x = hostTensor([0.3, -0.7, 0.2, 1.1, -0.4, 0.9], [2, 3]);
    for (const name of INPUT_GRADIENT_METHODS) {
      // With μ = 0, x ⊙ s_μ(x) = |x|: a μ of 0.5 shows that ×input×sign of an unsigned base is signed.
      const probe = name.endsWith('_x_sign') ? `${name}_mu_0_5` : name;
      const map = referenceAttribution(probe, quadraticModel(3, 2), x, { target: [0, 1], numSamples: 8, steps: 8 });
      expect(
        map.some((v) => v < 0),
        probe,
      ).toBe(isSignedMethod(name));
    }
  });
});
