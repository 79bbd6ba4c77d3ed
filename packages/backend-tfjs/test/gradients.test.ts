import { beforeAll, describe, expect, it } from 'vitest';
import { centralDifferenceGradient } from '@saliency/core/reference';
import { createTfjsBackend, type TfjsBackend } from '../src/index.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';
import { float64Model, type ModelSpec } from './helpers/float64-model.js';
import { cnnSpec, example, layersModel, mlpSpec, randomInput } from './helpers/test-models.js';
import { expectClose, maxAbsError } from './helpers/compare.js';

const MODELS: ReadonlyArray<readonly [string, ModelSpec]> = [
  ['MLP', mlpSpec()],
  ['CNN a (same conv, 2x2/2 valid pool)', cnnSpec('a')],
  ['CNN b (valid conv, 3x3/2 same pool)', cnnSpec('b')],
];

describe('float64 test models', () => {
  it.each(MODELS)('%s: analytic gradient equals central differences', (_, spec) => {
    const model = float64Model(spec);
    const x = randomInput(spec, 3, 11);
    for (let r = 0; r < 3; r++) {
      for (let t = 0; t < 4; t++) {
        const e = example(x, r);
        const fd = centralDifferenceGradient(model.logits, e, t, 1e-6);
        expect(maxAbsError(model.gradient(e, t), fd)).toBeLessThan(1e-7);
      }
    }
  });
});

describe.each(BACKENDS)('TfjsBackend on %s', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it('is named after the active TF.js backend', () => {
    expect(createTfjsBackend(layersModel(mlpSpec())).name).toBe(`tfjs-${backendName}`);
  });

  describe.each(MODELS)('%s', (_, spec) => {
    const reference = float64Model(spec);
    let backend: TfjsBackend;
    beforeAll(() => {
      backend = createTfjsBackend(layersModel(spec));
    });
    const rows = 5;
    const x = randomInput(spec, rows, 7);

    it('logits() match the float64 forward pass', async () => {
      const logits = await backend.logits(x);
      expect(logits.shape).toEqual([rows, 4]);
      for (let r = 0; r < rows; r++) {
        expectClose(logits.data.subarray(r * 4, r * 4 + 4), reference.logits(example(x, r)), 1e-5, `row ${r}`);
      }
    });

    it('gradients() match float64 central differences, one target per row', async () => {
      const targets = Int32Array.from([0, 3, 1, 2, 3]);
      const g = await backend.gradients(x, targets);
      expect(g.shape).toEqual(x.shape);
      const size = x.data.length / rows;
      for (let r = 0; r < rows; r++) {
        const fd = centralDifferenceGradient(reference.logits, example(x, r), targets[r]!, 1e-5);
        expectClose(g.data.subarray(r * size, (r + 1) * size), fd, 1e-4, `row ${r}`);
      }
    });

    it('gradientMoments() equal the moments of gradients() per group', async () => {
      const groupSize = 3;
      const groups = 4;
      const xs = randomInput(spec, groups * groupSize, 8, 1.5);
      const targets = Int32Array.from({ length: groups * groupSize }, (_, r) => (r * 7) % 4);
      const g = await backend.gradients(xs, targets);
      const moments = await backend.gradientMoments(xs, targets, groupSize);
      const size = xs.data.length / xs.shape[0]!;
      expect(moments.count).toBe(groupSize);
      expect(moments.mean.shape).toEqual([groups, ...spec.inputShape]);
      expect(moments.m2.shape).toEqual([groups, ...spec.inputShape]);
      for (let j = 0; j < groups; j++) {
        const mean = new Float64Array(size);
        const m2 = new Float64Array(size);
        for (let i = 0; i < groupSize; i++) {
          for (let k = 0; k < size; k++) mean[k]! += g.data[(j * groupSize + i) * size + k]! / groupSize;
        }
        for (let i = 0; i < groupSize; i++) {
          for (let k = 0; k < size; k++) m2[k]! += (g.data[(j * groupSize + i) * size + k]! - mean[k]!) ** 2;
        }
        expectClose(moments.mean.data.subarray(j * size, (j + 1) * size), mean, 1e-5, `mean of group ${j}`);
        expectClose(moments.m2.data.subarray(j * size, (j + 1) * size), m2, 1e-4, `m2 of group ${j}`);
      }
    });
  });

  it('computes no weight gradients and leaves the weights alone', async () => {
    const spec = mlpSpec();
    const model = layersModel(spec);
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const backend = createTfjsBackend(model);
    await backend.gradients(randomInput(spec, 2, 3), Int32Array.from([1, 2]));
    backend.dispose();
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    expect(model.getWeights().every((w) => !w.isDisposed)).toBe(true);
    // The engine's tape is gone: nothing recorded outlives the call.
    expect(tf.engine().state.activeTape ?? null).toBeNull();
  });
});
