import { describe, expect, it } from 'vitest';
import { AttributionError, explain, hostTensor, OPTION_KEYS, VarGrad, type AttributionOptions } from '../src/index.js';
import { closedFormBackend, quadraticModel } from './closed-form-models.js';

// JavaScript callers get no type checking: a misspelt key or a value of the
// wrong type must be refused by name, not ignored or coerced.
const x = hostTensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [2, 3]);
const known =
  'known options: target, seed, batchSize, numSamples, noiseScale, noiseLevel, noise, unbiased, mu, steps, baseline, layer, onProgress, signal';

async function refusal(run: (backend: ReturnType<typeof closedFormBackend>) => Promise<unknown>) {
  const backend = closedFormBackend(quadraticModel(3, 4));
  const error = await run(backend).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AttributionError);
  expect(backend.calls.logits + backend.calls.gradients + backend.calls.moments).toBe(0);
  return error as AttributionError;
}

/** Options as a JavaScript caller may pass them. */
const untyped = (options: Record<string, unknown>) => options as AttributionOptions;

describe('option keys', () => {
  it('lists every key of AttributionOptions', () => {
    expect(OPTION_KEYS).toHaveLength(14);
    expect(known).toBe(`known options: ${OPTION_KEYS.join(', ')}`);
  });

  it.each([
    ['numSample', { numSample: 8 }],
    ['samples', { samples: 8 }],
    ['noise_scale', { noise_scale: 0.5 }],
  ])('refuses the unknown key %s in a call, listing the known ones', async (key, options) => {
    const error = await refusal((b) => explain(b, 'vargrad', x, untyped(options)));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toBe(`unknown option "${key}" in the options; ${known}`);
  });

  it('refuses an unknown key among a class’s defaults', async () => {
    const error = await refusal(async (b) => new VarGrad(b, untyped({ numSample: 8 })));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toBe(`unknown option "numSample" in the default options; ${known}`);
  });

  it('takes known keys whose value is undefined', async () => {
    const map = await explain(
      closedFormBackend(quadraticModel(3, 4)),
      'gradient',
      x,
      untyped({ target: 1, seed: undefined, baseline: undefined }),
    );
    expect(map.shape).toEqual([2, 3]);
  });
});

describe('option types', () => {
  it.each([
    [{ numSamples: '8' }, 'numSamples must be a number; got the string "8"'],
    [{ seed: '3' }, 'seed must be a number; got the string "3"'],
    [{ batchSize: null }, 'batchSize must be a number; got null'],
    [{ noiseScale: '0.5' }, 'noiseScale must be a number; got the string "0.5"'],
    [{ noiseLevel: [0.1] }, 'noiseLevel must be a number; got an array of 1 value'],
    [{ mu: '0' }, 'mu must be a number; got the string "0"'],
    [{ steps: 10n }, 'steps must be a number; got the bigint 10n'],
    [{ unbiased: 'true' }, 'unbiased must be true or false; got the string "true"'],
    [{ unbiased: 1 }, 'unbiased must be true or false; got 1'],
    [{ onProgress: 'log' }, 'onProgress must be a function; got the string "log"'],
    [{ baseline: '0' }, 'baseline must be a number or a HostTensor; got the string "0"'],
    [{ noise: 0.1 }, 'noise must be a HostTensor or a function (example, sample, out) => void; got 0.1'],
  ])('refuses %o', async (options, message) => {
    const error = await refusal((b) => explain(b, 'vargrad', x, untyped(options)));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toBe(message);
  });

  it('checks a type even where the method does not read the option', async () => {
    const error = await refusal((b) => explain(b, 'gradient', x, untyped({ numSamples: '8' })));
    expect(error.message).toBe('numSamples must be a number; got the string "8"');
  });

  it('refuses options that are not an object', async () => {
    const error = await refusal((b) => explain(b, 'vargrad', x, untyped('fast' as unknown as Record<string, unknown>)));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toBe('the options must be an object of options; got the string "fast"');
  });
});
