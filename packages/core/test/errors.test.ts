import { describe, expect, it } from 'vitest';
import { AttributionError, explain, hostTensor, VarGrad, type AttributionErrorCode, type GradientBackend } from '../src/index.js';
import { closedFormBackend, quadraticModel } from './closed-form-models.js';

const x = hostTensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [2, 3]);

/** Runs `run`, expects an AttributionError with `code` whose message holds `text`, and that the backend did no work. */
async function expectRefused(
  run: (backend: ReturnType<typeof closedFormBackend>) => Promise<unknown>,
  code: AttributionErrorCode,
  text: string | RegExp,
  { before = 'any' as 'any' | 'gradients' } = {},
) {
  const backend = closedFormBackend(quadraticModel(3, 4));
  const error = await run(backend).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AttributionError);
  expect((error as AttributionError).code).toBe(code);
  expect((error as AttributionError).message).toMatch(text);
  if (before === 'any') expect(backend.calls.logits).toBe(0);
  expect(backend.calls.gradients + backend.calls.moments).toBe(0);
}

describe('errors name the problem before any work', () => {
  it('unknown method name, listing the known ones', () =>
    expectRefused(
      (b) => explain(b, 'vargard', x),
      'UNKNOWN_METHOD',
      /unknown method "vargard"; known methods: gradient, .*vargrad_x_input_x_sign/,
    ));

  it.each([
    [{ numSamples: 0 }, 'numSamples must be an integer ≥ 1; got 0'],
    [{ numSamples: -3 }, 'numSamples must be an integer ≥ 1; got -3'],
    [{ numSamples: 2.5 }, 'numSamples must be an integer ≥ 1; got 2.5'],
    [{ numSamples: Number.NaN }, 'numSamples must be an integer ≥ 1; got NaN'],
    [{ numSamples: 1, unbiased: true }, 'numSamples must be an integer ≥ 2 with unbiased: true (it divides by N − 1); got 1'],
    [{ noiseScale: -1 }, 'noiseScale must be a finite number ≥ 0; got -1'],
    [{ noiseScale: Number.NaN }, 'noiseScale must be a finite number ≥ 0; got NaN'],
    [{ noiseScale: Number.POSITIVE_INFINITY }, 'noiseScale must be a finite number ≥ 0; got Infinity'],
    [{ noiseLevel: -0.1 }, 'noiseLevel must be a finite number ≥ 0; got -0.1'],
    [{ noiseLevel: 0.1, noiseScale: 1 }, 'noiseScale (1) and noiseLevel (0.1) were both given'],
    [{ batchSize: 0 }, 'batchSize must be an integer ≥ 1; got 0'],
    [{ seed: -1 }, 'seed must be an integer ≥ 0; got -1'],
    [{ mu: Number.NaN }, 'mu must be a finite number; got NaN'],
  ])('option %j', (options, message) => expectRefused((b) => explain(b, 'vargrad', x, options), 'INVALID_OPTION', message));

  it('steps of Integrated Gradients', () =>
    expectRefused((b) => explain(b, 'integrated_gradients', x, { steps: 0 }), 'INVALID_OPTION', 'steps must be an integer ≥ 1; got 0'));

  it('a μ given twice, differently', () =>
    expectRefused((b) => explain(b, 'vargrad_x_sign_mu_0_5', x, { mu: 1 }), 'INVALID_OPTION', /sets μ = 0.5 but the options set mu = 1/));

  it('bad defaults in a constructor', () => {
    expect(() => new VarGrad(closedFormBackend(quadraticModel(3, 4)), { numSamples: 0 })).toThrow(
      'numSamples must be an integer ≥ 1; got 0',
    );
  });

  it.each([
    [4, 'target 4 is not a class index: the model has 4 classes, so a target is an integer in [0, 3]'],
    [-1, 'target -1 is not a class index'],
    [1.5, 'target 1.5 is not a class index'],
    [[0, 9], 'target 9 (example 1) is not a class index'],
    [[0, 1, 2], 'target lists 3 classes but the input holds 2 examples'],
  ])('target %j, after the one clean forward pass that tells the number of classes', (target, message) =>
    expectRefused((b) => explain(b, 'vargrad', x, { target }), 'INVALID_TARGET', message, { before: 'gradients' }),
  );

  it('NaN and Infinity in the input, saying how many and where', () => {
    const bad = hostTensor([0, Number.NaN, 0, 0, Number.NEGATIVE_INFINITY, 0], [2, 3]);
    return expectRefused(
      (b) => explain(b, 'vargrad', bad),
      'NON_FINITE_INPUT',
      'input holds 2 non-finite values (NaN or ±Infinity): NaN at [0, 1], -Infinity at [1, 1]',
    );
  });

  it('an input shape the backend does not accept', () =>
    expectRefused(
      (b) => explain(b, 'gradient', hostTensor(new Float32Array(8), [2, 4])),
      'INVALID_SHAPE',
      'closed-form backend takes [B, 3]; got [2, 4]',
    ));

  it('an input without a batch axis', () =>
    expectRefused(
      (b) => explain(b, 'gradient', hostTensor(new Float32Array(3), [3])),
      'INVALID_SHAPE',
      'input shape [3] must be a batch [B, ...] of rank ≥ 2',
    ));

  it('an input that is not float32', () =>
    expectRefused(
      (b) => explain(b, 'gradient', { data: new Float64Array(6) as unknown as Float32Array, shape: [2, 3] }),
      'INVALID_INPUT',
      'input must be a HostTensor { data: Float32Array, shape: number[] }',
    ));

  it('a baseline of the wrong shape', () =>
    expectRefused(
      (b) => explain(b, 'integrated_gradients', x, { baseline: hostTensor(new Float32Array(4), [4]) }),
      'INVALID_OPTION',
      "baseline has shape [4]; expected the input's shape [2, 3] or one example's [3]",
    ));

  it('a backend whose model output is not [B, K]', async () => {
    const backend: GradientBackend = {
      name: 'flat-output',
      logits: async () => hostTensor(new Float32Array(8), [8]),
      gradients: async () => hostTensor(new Float32Array(6), [2, 3]),
    };
    await expect(explain(backend, 'vargrad', x)).rejects.toThrow(
      'flat-output: the model output has shape [8]; expected logits of shape [2, K] for a batch of 2',
    );
  });

  it('a backend whose gradients have the wrong shape', async () => {
    const backend: GradientBackend = {
      name: 'short-gradients',
      logits: async () => hostTensor(new Float32Array(4), [2, 2]),
      gradients: async () => hostTensor(new Float32Array(3), [1, 3]),
    };
    await expect(explain(backend, 'gradient', x)).rejects.toThrow(
      'short-gradients: gradients() returned shape [1, 3] with 3 values; expected [2, 3]',
    );
  });
});
