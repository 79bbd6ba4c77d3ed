import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { explain, hostTensor } from '@saliency/core';
import { centralDifferenceGradient } from '@saliency/core/reference';
import { createTfjsBackend } from '../src/index.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';
import { float64Model } from './helpers/float64-model.js';
import { example, layersModel, mlpSpec, randomInput } from './helpers/test-models.js';
import { expectClose } from './helpers/compare.js';

/** 2×2 windows of a 4×4 single-channel image, each with a repeated maximum. */
const TIED = [
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // all zero: every window ties
  [1, 1, 0, 2, 0, 1, 2, 2, -1, -1, -2, -2, -1, 3, -2, -2],
];
/** Row-major flat index (in the 4×4 image) of the first maximum of window k, per example. */
const FIRST_MAX = [
  [0, 2, 8, 10],
  [0, 3, 13, 10],
];

describe.each(BACKENDS)('models on %s', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it('a plain function model: gradients match float64 central differences', async () => {
    const spec = mlpSpec(4);
    const [l1, l2, l3] = spec.layers as Array<Extract<(typeof spec.layers)[number], { kind: 'dense' }>>;
    const weights = [l1!, l2!, l3!].map((l) => {
      const inDim = l.kernel.length / l.units;
      return [tf.tensor2d(Float32Array.from(l.kernel), [inDim, l.units]), tf.tensor1d(Float32Array.from(l.bias))] as const;
    });
    const model = (x: tf.Tensor): tf.Tensor => {
      let h = x;
      weights.forEach(([w, b], i) => {
        h = tf.add(tf.matMul(h, w), b);
        if (i < 2) h = tf.relu(h);
      });
      return h;
    };
    const backend = createTfjsBackend(model);
    expect(backend.inputShape).toBeUndefined();
    const x = randomInput(spec, 4, 41);
    const targets = Int32Array.from([3, 2, 1, 0]);
    const g = await backend.gradients(x, targets);
    const reference = float64Model(spec);
    for (let r = 0; r < 4; r++) {
      const fd = centralDifferenceGradient(reference.logits, example(x, r), targets[r]!, 1e-6);
      expectClose(g.data.subarray(r * 6, r * 6 + 6), fd, 1e-4, `row ${r}`);
    }
    tf.dispose(weights.flat());
  });

  it('max pooling ties: each window sends its whole gradient to its first maximum (function model)', async () => {
    const w = Float32Array.from({ length: 4 * 3 }, (_, i) => 1 + i); // distinct, non-zero
    const wTensor = tf.tensor2d(w, [4, 3]);
    const model = (x: tf.Tensor): tf.Tensor => tf.matMul(tf.reshape(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), [-1, 4]), wTensor);
    const backend = createTfjsBackend(model);
    const x = hostTensor(TIED.flat(), [2, 4, 4, 1]);
    for (const target of [0, 2]) {
      const g = await backend.gradients(x, Int32Array.from([target, target]));
      const expected = new Float32Array(32);
      FIRST_MAX.forEach((positions, b) =>
        positions.forEach((at, k) => {
          expected[b * 16 + at] = w[k * 3 + target]!;
        }),
      );
      expect(Array.from(g.data)).toEqual(Array.from(expected));
    }
    // The same through core, for a method that multiplies nothing in.
    const viaExplain = await explain(backend, 'gradient', x, { target: 1 });
    expect(viaExplain.data.filter((v) => v !== 0).length).toBe(8);
    wTensor.dispose();
  });

  it('max pooling ties in a channelsFirst LayersModel (transposed to NHWC around the op)', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.maxPooling2d({ inputShape: [2, 4, 4], poolSize: 2, strides: 2, dataFormat: 'channelsFirst' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 3 }),
      ],
    });
    const w = Float32Array.from({ length: 8 * 3 }, (_, i) => 1 + i);
    tf.tidy(() => model.layers[2]!.setWeights([tf.tensor2d(w, [8, 3]), tf.zeros([3])]));
    const backend = createTfjsBackend(model);
    // Channel 0 all zero, channel 1 the tied pattern of TIED[1].
    const x = hostTensor([...TIED[0]!, ...TIED[1]!], [1, 2, 4, 4]);
    const g = await backend.gradients(x, Int32Array.from([1]));
    const expected = new Float32Array(32);
    FIRST_MAX.forEach((positions, channel) =>
      positions.forEach((at, k) => {
        expected[channel * 16 + at] = w[(channel * 4 + k) * 3 + 1]!;
      }),
    );
    expect(Array.from(g.data)).toEqual(Array.from(expected));
  });

  it('runs LayersModels in inference mode (Dropout is the identity)', async () => {
    const spec = mlpSpec();
    const base = layersModel(spec);
    const input = tfl.input({ shape: [6] });
    const dropped = tfl.layers.dropout({ rate: 0.5 }).apply(base.apply(input)) as tfl.SymbolicTensor;
    const withDropout = tfl.model({ inputs: input, outputs: dropped });
    const x = randomInput(spec, 3, 51);
    const targets = Int32Array.from([0, 1, 2]);
    const a = await createTfjsBackend(withDropout).gradients(x, targets);
    const b = await createTfjsBackend(base).gradients(x, targets);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});
