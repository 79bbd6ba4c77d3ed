import { beforeAll, describe, expect, it } from 'vitest';
import { centralDifferenceGradient } from '@saliency/core/reference';
import { hostTensor } from '@saliency/core';
import { createTfjsBackend } from '../src/index.js';
import { withoutFilterGradients } from '../src/discarded-filter-gradients.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';
import { expectClose } from './helpers/compare.js';

describe.each(BACKENDS)('filter gradients on %s', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it('are replaced only for the duration of the call, then the previous kernels are back', () => {
    const before = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter'].map((k) => tf.getKernel(k, backendName));
    const during = withoutFilterGradients(() => tf.getKernel('Conv2DBackpropFilter', backendName));
    expect(during).toBeDefined();
    expect(during).not.toBe(before[0]);
    expect(() =>
      withoutFilterGradients(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    const after = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter'].map((k) => tf.getKernel(k, backendName));
    expect(after).toEqual(before);
  });

  // TF.js's wasm backend has no Conv2DBackpropFilter kernel: such a model cannot be differentiated there.
  it.skipIf(backendName === 'wasm')('are still taken for a function whose filter is computed from its input', async () => {
    // f(x) = Σ conv2d(x, filter(x)), with the filter a function of x: d/dx needs the filter's gradient.
    const model = (x: tf.Tensor): tf.Tensor => {
      const image = tf.reshape(x, [-1, 3, 3, 1]);
      const filter = tf.reshape(tf.slice(tf.mean(image, 0), [0, 0, 0], [2, 2, 1]), [2, 2, 1, 1]);
      return tf.reshape(tf.sum(tf.conv2d(image as tf.Tensor4D, filter as tf.Tensor4D, 1, 'valid'), [1, 2, 3]), [-1, 1]);
    };
    const values = [0.3, -0.2, 0.5, 0.1, 0.9, -0.4, 0.7, 0.2, -0.6];
    const backend = createTfjsBackend(model);
    const g = await backend.gradients(hostTensor(values, [1, 9]), Int32Array.from([0]));
    const logits64 = (e: Float64Array) => {
      let sum = 0;
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++) {
          for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) sum += e[(i + a) * 3 + (j + b)]! * e[a * 3 + b]!;
        }
      return Float64Array.of(sum);
    };
    expectClose(g.data, centralDifferenceGradient(logits64, Float64Array.from(values), 0), 1e-4, 'gradient');
  });
});
