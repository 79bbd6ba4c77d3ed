import { rejection } from '@saliency/dev-support/rejection';
import { describe, expect, it } from 'vitest';
import { INPUT_GRADIENT_METHODS } from './input-gradient-methods.js';
import { AttributionError, explain, hostTensor, VarGrad, type GradientBackend, type HostTensor } from '../src/index.js';
import { MAX_NUM_SAMPLES } from '../src/engine/options.js';
import { referenceAttribution } from '../src/reference/index.js';
import { closedFormBackend, logisticModel, quadraticModel, relativeError } from './closed-form-models.js';

/* Bad inputs that core refuses beyond those of errors.test.ts: absurd sizes, bad noise, aborts. */

const x = hostTensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [2, 3]);

/** The AttributionError `promise` rejects with. */
const rejectionOf = (promise: Promise<unknown>) => rejection(promise, AttributionError);

describe('absurd sizes are refused before any work', () => {
  it.each([
    ['vargrad', { numSamples: MAX_NUM_SAMPLES + 1 }, 'numSamples must be at most 1,000,000 (MAX_NUM_SAMPLES); got 1000001'],
    ['smoothgrad', { numSamples: 1e12 }, 'numSamples must be at most 1,000,000 (MAX_NUM_SAMPLES); got 1000000000000'],
    ['vargrad', { numSamples: Number.POSITIVE_INFINITY }, 'numSamples must be an integer ≥ 1; got Infinity'],
    ['integrated_gradients', { steps: 5e6 }, 'steps must be at most 1,000,000 (MAX_NUM_SAMPLES); got 5000000'],
  ])('%s with %j', async (method, options, message) => {
    const backend = closedFormBackend(quadraticModel(3, 4));
    const error = await rejectionOf(explain(backend, method, x, options));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toBe(message);
    expect(backend.calls.logits + backend.calls.gradients + backend.calls.moments).toBe(0);
  });

  it('the bound itself is accepted (checked on the options alone, no run)', () => {
    expect(() => new VarGrad(closedFormBackend(quadraticModel(3, 4)), { numSamples: MAX_NUM_SAMPLES })).not.toThrow();
  });
});

describe('caller-supplied noise with NaN or ∞', () => {
  it('a tensor: refused before any work, naming the count and the positions', async () => {
    const noise = hostTensor(new Float32Array(4 * 3).fill(0.1), [4, 3]);
    noise.data[4] = Number.NaN;
    noise.data[11] = Number.POSITIVE_INFINITY;
    const backend = closedFormBackend(quadraticModel(3, 4));
    const error = await rejectionOf(explain(backend, 'vargrad', x, { noise, numSamples: 4 }));
    expect(error.code).toBe('NON_FINITE_INPUT');
    expect(error.message).toBe('noise holds 2 non-finite values (NaN or ±Infinity): NaN at [1, 1], Infinity at [3, 2]');
    expect(backend.calls.logits + backend.calls.gradients + backend.calls.moments).toBe(0);
  });

  it('a function: refused at the first sample it spoils, naming example, sample and element', async () => {
    const backend = closedFormBackend(quadraticModel(3, 4));
    const error = await rejectionOf(
      explain(backend, 'smoothgrad', x, {
        numSamples: 4,
        noise: (example, sample, out) => {
          out.fill(0.2);
          if (example === 1 && sample === 2) out[1] = Number.NaN;
        },
      }),
    );
    expect(error.code).toBe('NON_FINITE_INPUT');
    expect(error.message).toBe('noise function returned 1 non-finite value (NaN or ±Infinity) for example 1, sample 2: NaN at [1]');
    expect(backend.calls.gradients + backend.calls.moments).toBe(0);
  });
});

describe('AbortSignal', () => {
  it('an already aborted signal: ABORTED before any model work, the reason as cause', async () => {
    const controller = new AbortController();
    const reason = new Error('user left the page');
    controller.abort(reason);
    const backend = closedFormBackend(quadraticModel(3, 4));
    const error = await rejectionOf(explain(backend, 'vargrad', x, { signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(error.message).toBe('the run was aborted before any model work: user left the page');
    expect(error.cause).toBe(reason);
    expect(backend.calls.logits).toBe(0);
  });

  it.each([
    ['vargrad', { reduceMoments: true }],
    ['smoothgrad_x_input', { reduceMoments: false }],
    ['integrated_gradients', { reduceMoments: true }],
    ['gradient', { reduceMoments: false }],
  ])('%s (%j) stops between backend calls after an abort, saying how far it got', async (method, backendOptions) => {
    const backend = closedFormBackend(quadraticModel(3, 4), backendOptions);
    const controller = new AbortController();
    const many = hostTensor(
      Float32Array.from({ length: 12 * 3 }, (_, i) => Math.sin(i)),
      [12, 3],
    );
    const seen: number[] = [];
    const error = await rejectionOf(
      explain(backend, method, many, {
        numSamples: 8,
        steps: 8,
        batchSize: 4,
        signal: controller.signal,
        onProgress: ({ done }) => {
          seen.push(done);
          if (seen.length === 2) controller.abort();
        },
      }),
    );
    expect(error.code).toBe('ABORTED');
    expect(error.message).toMatch(/^the run was aborted after 8 of (12|96) model rows: This operation was aborted$/);
    expect((error.cause as Error).name).toBe('AbortError');
    // Two calls ran; the third was never made.
    expect(backend.calls.gradients + backend.calls.moments).toBe(2);
  });

  it('a signal that never fires changes nothing', async () => {
    const options = { numSamples: 6, seed: 2, target: [1, 3] };
    const backend = closedFormBackend(logisticModel(3, 4));
    const withSignal = await explain(backend, 'vargrad', x, { ...options, signal: new AbortController().signal });
    const without = await explain(backend, 'vargrad', x, options);
    expect(withSignal.data).toEqual(without.data);
  });

  it('something that is not an AbortSignal is refused', async () => {
    const error = await rejectionOf(
      explain(closedFormBackend(quadraticModel(3, 4)), 'vargrad', x, { signal: 'stop' as unknown as AbortSignal }),
    );
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toBe('signal must be an AbortSignal (from an AbortController); got stop');
  });
});

describe('concurrent calls on one backend', () => {
  /** A backend whose calls resolve in an order unlike their start order, to interleave concurrent runs. */
  function shuffledBackend(): GradientBackend {
    const inner = closedFormBackend(logisticModel(3, 4));
    let turn = 0;
    const later = <T>(value: Promise<T>) => value.then((v) => new Promise<T>((resolve) => setTimeout(() => resolve(v), (turn++ * 7) % 5)));
    return {
      name: inner.name,
      logits: (input) => later(inner.logits(input)),
      gradients: (input, targets) => later(inner.gradients(input, targets)),
      gradientMoments: (input, targets, n) => later(inner.gradientMoments!(input, targets, n)),
    };
  }

  it.each(INPUT_GRADIENT_METHODS)('%s: concurrent runs give what sequential runs give, and the float64 reference', async (method) => {
    const backend = shuffledBackend();
    const inputs = [x, hostTensor([-0.4, 0.9, 0.2, 1.1, -0.3, 0.05], [2, 3]), hostTensor([0.7, -0.7, 0.1], [1, 3])];
    const options = { numSamples: 5, steps: 5, batchSize: 3, seed: 4 };
    const sequential: HostTensor[] = [];
    for (const input of inputs) sequential.push(await explain(backend, method, input, options));
    const concurrent = await Promise.all(inputs.map((input) => explain(backend, method, input, options)));
    concurrent.forEach((map, i) => {
      expect(map.data).toEqual(sequential[i]!.data);
      expect(relativeError(map.data, referenceAttribution(method, logisticModel(3, 4), inputs[i]!, options))).toBeLessThan(1e-4);
    });
  });
});
