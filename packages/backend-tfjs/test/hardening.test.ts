import { rejection } from '@saliency/dev-support/rejection';
import { beforeAll, describe, expect, it } from 'vitest';
import { AttributionError, explain } from '@saliency/core';
import { createTfjsBackend } from '../src/index.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';
import { layersModel, mlpSpec, randomInput } from './helpers/test-models.js';

/*
 * A TfjsBackend over a model that throws. Calls after dispose, dispose during
 * a run, concurrent calls and aborts: test/conformance.test.ts, as for every backend.
 */

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
      expect(error.message).toBe(
        `tfjs-${backendName}: function threw while computing ${what} of a batch of shape [3, 6]: weights not loaded`,
      );
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
    expect(error.message).toMatch(
      new RegExp(`^tfjs-${backendName}: LayersModel .*threw while computing the input gradients of a batch of shape \\[3, 6\\]: `),
    );
    expect(error.cause).toBeInstanceOf(Error);
  });
});
