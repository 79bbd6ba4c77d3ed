import { beforeAll, describe, expect, it } from 'vitest';
import { explain, hostTensor, type GradientBackend } from '@saliency/core';
import { createTfjsBackend } from '../src/index.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';
import { cnnSpec, layersModel, mlpSpec, randomInput } from './helpers/test-models.js';
import { denseGraphModel } from './helpers/graph-model.js';

/** Runs `call` and asserts that it leaves as many live tensors as it found, also when it throws. */
async function expectNoLeak(call: () => Promise<unknown>, expectError = false): Promise<void> {
  const before = tf.memory().numTensors;
  let failed = false;
  try {
    await call();
  } catch {
    failed = true;
  }
  expect(failed).toBe(expectError);
  expect(tf.memory().numTensors).toBe(before);
  expect(tf.engine().state.activeTape ?? null).toBeNull();
}

const METHODS = ['gradient_x_input', 'smoothgrad', 'smoothgrad_squared', 'vargrad_x_sign', 'integrated_gradients'];

describe.each(BACKENDS)('no tensor leaks on %s', (backendName) => {
  beforeAll(() => useBackend(backendName));

  const cases: Array<[string, () => { backend: GradientBackend; x: ReturnType<typeof randomInput> }]> = [
    ['MLP LayersModel', () => ({ backend: createTfjsBackend(layersModel(mlpSpec())), x: randomInput(mlpSpec(), 3, 1) })],
    ['CNN LayersModel', () => ({ backend: createTfjsBackend(layersModel(cnnSpec('a'))), x: randomInput(cnnSpec('a'), 3, 1) })],
    ['softmax-stripped Dense', () => ({ backend: createTfjsBackend(layersModel(mlpSpec(1, 'softmax'))), x: randomInput(mlpSpec(), 3, 1) })],
    ['GraphModel', () => ({ backend: createTfjsBackend(denseGraphModel(mlpSpec(), true)), x: randomInput(mlpSpec(), 3, 1) })],
  ];

  describe.each(cases)('%s', (_, make) => {
    let backend: GradientBackend;
    let x: ReturnType<typeof randomInput>;
    beforeAll(() => {
      ({ backend, x } = make());
    });

    it('logits, gradients, gradientMoments', async () => {
      await expectNoLeak(() => backend.logits(x));
      await expectNoLeak(() => backend.gradients(x, Int32Array.from([0, 1, 2])));
      const xs = hostTensor(new Float32Array([...x.data, ...x.data]), [6, ...x.shape.slice(1)]);
      await expectNoLeak(() => backend.gradientMoments!(xs, Int32Array.from([0, 1, 2, 3, 0, 1]), 3));
    });

    it.each(METHODS)('explain %s', async (method) => {
      await expectNoLeak(() => explain(backend, method, x, { numSamples: 4, steps: 4, batchSize: 5 }));
    });

    it('errors: bad target (core), out-of-range target and bad group size (backend)', async () => {
      await expectNoLeak(() => explain(backend, 'vargrad', x, { target: 99 }), true);
      await expectNoLeak(() => backend.gradients(x, Int32Array.from([0, 1, 99])), true);
      await expectNoLeak(() => backend.gradientMoments!(x, Int32Array.from([0, 1, 2]), 2), true);
    });
  });

  it('errors inside the model: a throwing function, a wrong output rank, a missing gradient', async () => {
    const x = randomInput(mlpSpec(), 2, 3);
    const targets = Int32Array.from([0, 1]);
    const throwing = createTfjsBackend((input) => {
      tf.relu(tf.mul(input, 2));
      throw new Error('model failed');
    });
    await expectNoLeak(() => throwing.gradients(x, targets), true);
    await expectNoLeak(() => throwing.logits(x), true);

    const rank3 = createTfjsBackend((input) => tf.expandDims(tf.relu(input), 2));
    await expectNoLeak(() => rank3.gradients(x, targets), true);
    await expectNoLeak(() => rank3.logits(x), true);

    const elu = tf.getGradient('Elu');
    tf.unregisterGradient('Elu');
    try {
      const noGradient = createTfjsBackend((input) => tf.elu(tf.mul(input, 3)));
      await expectNoLeak(() => noGradient.gradients(x, targets), true);
      await expectNoLeak(() => noGradient.gradientMoments!(x, targets, 2), true);
    } finally {
      tf.registerGradient(elu);
    }
    // And the engine still differentiates afterwards.
    const ok = createTfjsBackend((input) => tf.elu(input));
    await expectNoLeak(() => ok.gradients(x, targets));
  });
});
