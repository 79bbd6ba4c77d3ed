import { rejection } from '@saliency/dev-support/rejection';
import { beforeAll, describe, expect, it } from 'vitest';
import { AttributionError, explain, type HostTensor } from '@saliency/core';
import { referenceAttribution } from '@saliency/core/reference';
import { createTfjsBackend } from '../src/index.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';
import { float64Model } from './helpers/float64-model.js';
import { expectClose } from './helpers/compare.js';
import { layersModel, mlpSpec, randomInput } from './helpers/test-models.js';

/* Bad use of a TfjsBackend: a model that throws, calls after dispose, concurrent calls, aborts. */

/** The AttributionError `promise` rejects with. */
const rejectionOf = (promise: Promise<unknown>) => rejection(promise, AttributionError);

describe.each(BACKENDS)('TfjsBackend hardening on %s', (backendName) => {
  beforeAll(() => useBackend(backendName));
  const x = randomInput(mlpSpec(), 3, 7);

  it('a function that throws: MODEL_FAILED with what was computed, the original as cause; no tensor left', async () => {
    const original = new Error('weights not loaded');
    const backend = createTfjsBackend((input) => {
      tf.relu(input);
      throw original;
    });
    const before = tf.memory().numTensors;
    for (const [call, what] of [
      [backend.logits(x), 'the logits'],
      [backend.gradients(x, Int32Array.from([0, 1, 2])), 'the input gradients'],
      [explain(backend, 'vargrad', x, { target: 0 }), 'the logits'],
    ] as const) {
      const error = await rejectionOf(call);
      expect(error.code).toBe('MODEL_FAILED');
      expect(error.message).toBe(`tfjs-${backendName}: function threw while computing ${what} of a batch of shape [3, 6]: weights not loaded`);
      expect(error.cause).toBe(original);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a LayersModel whose layer throws: MODEL_FAILED naming the model', async () => {
    const model = layersModel(mlpSpec());
    const backend = createTfjsBackend(model);
    model.layers[1]!.dispose(); // its weights are gone: running it throws inside TF.js
    const error = await rejectionOf(backend.gradients(x, Int32Array.from([0, 1, 2])));
    expect(error.code).toBe('MODEL_FAILED');
    expect(error.message).toMatch(new RegExp(`^tfjs-${backendName}: LayersModel .*threw while computing the input gradients of a batch of shape \\[3, 6\\]: `));
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('calls after dispose: DISPOSED for every call and for explain', async () => {
    const backend = createTfjsBackend(layersModel(mlpSpec()));
    backend.dispose();
    for (const call of [
      backend.logits(x),
      backend.gradients(x, Int32Array.from([0, 1, 2])),
      backend.gradientMoments(x, Int32Array.from([0, 1, 2]), 3),
      explain(backend, 'smoothgrad', x),
    ]) {
      const error = await rejectionOf(call);
      expect(error.code).toBe('DISPOSED');
      expect(error.message).toBe(`tfjs-${backendName}: the backend was disposed`);
    }
  });

  it('concurrent explain calls give what sequential calls give, and the float64 reference', async () => {
    const spec = mlpSpec();
    const backend = createTfjsBackend(layersModel(spec));
    const inputs = [x, randomInput(spec, 2, 8), randomInput(spec, 4, 9)];
    const methods = ['vargrad', 'smoothgrad_x_input', 'integrated_gradients', 'gradient_x_sign'];
    const options = { numSamples: 6, steps: 6, batchSize: 5, seed: 5, target: 1 };
    const jobs = methods.flatMap((method) => inputs.map((input) => ({ method, input })));
    const sequential: HostTensor[] = [];
    for (const { method, input } of jobs) sequential.push(await explain(backend, method, input, options));
    const before = tf.memory().numTensors;
    const concurrent = await Promise.all(jobs.map(({ method, input }) => explain(backend, method, input, options)));
    expect(tf.memory().numTensors).toBe(before);
    concurrent.forEach((map, i) => {
      const { method, input } = jobs[i]!;
      expect(map.data, `${method} on input ${i % 3}`).toEqual(sequential[i]!.data);
      expectClose(map.data, referenceAttribution(method, float64Model(spec), input, options), 2e-4, method);
    });
  });

  it('an AbortSignal stops a long run between calls and leaves no tensor', async () => {
    const backend = createTfjsBackend(layersModel(mlpSpec()));
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    let calls = 0;
    const error = await rejectionOf(
      explain(backend, 'vargrad', x, {
        numSamples: 4096,
        batchSize: 64,
        signal: controller.signal,
        onProgress: () => {
          if (++calls === 3) controller.abort(new Error('took too long'));
        },
      }),
    );
    expect(error.code).toBe('ABORTED');
    expect(error.message).toBe('the run was aborted after 192 of 12288 model rows: took too long');
    expect(error.cause).toEqual(new Error('took too long'));
    expect(calls).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().state.activeTape ?? null).toBeNull();
  });
});
