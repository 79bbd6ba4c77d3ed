import { describe, expect, it } from 'vitest';
import { noisyRms } from '@saliency/dev-support/toy-method';
import {
  Attribution,
  AttributionError,
  explain,
  fillStandardNormal,
  hostTensor,
  isSignedMethod,
  METHOD_NAMES,
  parseMethodName,
  registerMethod,
  type HostTensor,
  type MethodRule,
} from '../src/index.js';
import { referenceAttribution } from '../src/reference/index.js';
import { closedFormBackend, quadraticModel, relativeError, type ClosedFormModel } from './closed-form-models.js';

// The toy method of dev-support/toy-method.mjs, registered the way a user would.
registerMethod(noisyRms);

const model = quadraticModel(3, 2);
const x = hostTensor([0.3, -0.7, 0.2, 1.1, -0.4, 0.9], [2, 3]);
const targets = [0, 1];
const N = 5;
/** Caller-supplied noise [N, 3], the same for both examples. */
const noise = hostTensor(
  Array.from({ length: N * 3 }, (_, i) => 0.4 * Math.cos(2.3 * i + 0.7)),
  [N, 3],
);

/**
 * √((1/N) Σ_i g(x + ε_i)²) straight from its definition, in float64 with the
 * model's closed-form gradient; each noisy row rounded to float32, as the
 * rows a backend is given are.
 */
function expectedRms(
  m: ClosedFormModel,
  input: HostTensor,
  epsilon: (b: number, i: number) => ArrayLike<number>,
  samples: number,
): Float64Array {
  const size = m.size;
  const out = new Float64Array(input.data.length);
  for (let b = 0; b < input.shape[0]!; b++) {
    const sums = new Float64Array(size);
    for (let i = 0; i < samples; i++) {
      const e = epsilon(b, i);
      const row = Float64Array.from({ length: size }, (_, k) => Math.fround(input.data[b * size + k]! + e[k]!));
      const g = m.gradient(row, targets[b]!);
      for (let k = 0; k < size; k++) sums[k] = sums[k]! + g[k]! ** 2;
    }
    for (let k = 0; k < size; k++) out[b * size + k] = Math.sqrt(sums[k]! / samples);
  }
  return out;
}

const suppliedEpsilon = (_b: number, i: number) => noise.data.subarray(i * 3, (i + 1) * 3);
const expected = expectedRms(model, x, suppliedEpsilon, N);

describe('a method added with registerMethod (dev-support/toy-method.mjs)', () => {
  it('joins the method names, with its modifiers, and parses like a built-in one', () => {
    for (const name of ['noisy_rms', 'noisy_rms_x_input', 'noisy_rms_x_sign', 'noisy_rms_x_input_x_sign']) {
      expect(METHOD_NAMES).toContain(name);
    }
    expect(parseMethodName('noisy_rms_x_sign_mu_neg_0_5')).toEqual({
      base: 'noisy_rms',
      modifiers: { input: false, sign: true, mu: -0.5 },
    });
    expect(isSignedMethod('noisy_rms')).toBe(false);
    expect(isSignedMethod('noisy_rms_x_input')).toBe(true);
  });

  it('explain by name gives its definition, with the backend reducing on its device and without', async () => {
    for (const reduceMoments of [true, false]) {
      const backend = closedFormBackend(model, { reduceMoments });
      const map = await explain(backend, 'noisy_rms', x, { target: targets, noise, numSamples: N, batchSize: 3 });
      expect(map.shape).toEqual([2, 3]);
      expect(relativeError(map.data, expected), `reduceMoments ${reduceMoments}`).toBeLessThan(1e-6);
      expect(backend.calls.moments > 0).toBe(reduceMoments);
    }
  });

  it('the float64 reference computes it too', () => {
    const reference = referenceAttribution('noisy_rms', model, x, { target: targets, noise, numSamples: N });
    expect(relativeError(reference, expected)).toBeLessThan(1e-12);
  });

  it('takes the modifiers: ×input multiplies by x', async () => {
    const map = await explain(closedFormBackend(model), 'noisy_rms_x_input', x, { target: targets, noise, numSamples: N });
    expect(
      relativeError(
        map.data,
        expected.map((v, i) => v * x.data[i]!),
      ),
    ).toBeLessThan(1e-6);
  });

  it('uses the seeded noise of docs/methods.md, σ = noiseScale', async () => {
    const seed = 11;
    const sigma = 0.25;
    const seeded = (b: number, i: number) => {
      const z = new Float64Array(3);
      fillStandardNormal(z, seed, b, i);
      return z.map((v) => Math.fround(Math.fround(v) * sigma));
    };
    const want = expectedRms(model, x, seeded, 7);
    const map = await new Attribution(closedFormBackend(model), 'noisy_rms', { seed, noiseScale: sigma }).attribute(x, {
      target: targets,
      numSamples: 7,
      batchSize: 4,
    });
    expect(relativeError(map.data, want)).toBeLessThan(1e-6);
  });

  it('has its option checks: numSamples is a count', async () => {
    const error = await explain(closedFormBackend(model), 'noisy_rms', x, { numSamples: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AttributionError);
    expect((error as AttributionError).code).toBe('INVALID_OPTION');
    expect((error as AttributionError).message).toBe('numSamples must be an integer ≥ 1; got 0');
  });
});

describe('registerMethod refuses', () => {
  const rule = (overrides: Partial<Record<keyof MethodRule, unknown>>) => ({ ...noisyRms, ...overrides }) as MethodRule;
  it.each([
    [
      'a name taken by a built-in method',
      rule({ name: 'vargrad' }),
      'registerMethod: method "vargrad" is already registered (as "vargrad")',
    ],
    ['a name taken already', rule({}), 'registerMethod: method "noisy_rms" is already registered (as "noisy_rms")'],
    [
      'a name that reads as a modifier',
      rule({ name: 'mine_x_sign' }),
      'registerMethod: method "mine_x_sign" must not contain _mu_, _x_input or _x_sign, which the method-name grammar reads as modifiers',
    ],
    [
      'a malformed name',
      rule({ name: 'My-Method' }),
      'registerMethod: method "My-Method" needs a name of lower-case letters, digits and single underscores, e.g. "my_method"',
    ],
    [
      'unknown rows',
      rule({ name: 'mine', rows: 'samples' }),
      `registerMethod: method "mine" has rows "samples"; expected one of 'input', 'noisy-samples', 'path-points'`,
    ],
    [
      'a finish that is not a function',
      rule({ name: 'mine', finish: 2 }),
      'registerMethod: method "mine" has a finish that is not a function',
    ],
    [
      'a rule without reduce',
      rule({ name: 'mine', reduce: undefined }),
      'registerMethod: method "mine" needs a reduce(moments, options) function',
    ],
  ])('%s', (_, bad, message) => {
    const error = (() => {
      try {
        registerMethod(bad);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AttributionError);
    expect((error as AttributionError).code).toBe('INVALID_METHOD');
    expect((error as AttributionError).message).toBe(message);
    expect(METHOD_NAMES).not.toContain('mine');
  });
});
