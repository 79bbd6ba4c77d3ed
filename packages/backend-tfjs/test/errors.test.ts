import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { AttributionError, explain, hostTensor } from '@saliency/core';
import { createTfjsBackend, MissingGradientError, type TfjsModel } from '../src/index.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';
import { cnnSpec, layersModel, mlpSpec, randomInput } from './helpers/test-models.js';

/** The error `promise` rejects with, or a failure when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe.each(BACKENDS)('error messages on %s', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it('a wrong input shape for a LayersModel: INVALID_SHAPE naming both shapes', async () => {
    const backend = createTfjsBackend(layersModel(cnnSpec('a')));
    expect(backend.inputShape).toEqual([null, 6, 6, 2]);
    expect(() => backend.checkInputShape([3, 6, 6, 2])).not.toThrow();
    const error = thrown(() => backend.checkInputShape([3, 6, 2, 6]));
    expect(error).toBeInstanceOf(AttributionError);
    expect((error as AttributionError).code).toBe('INVALID_SHAPE');
    expect(error.message).toContain('[any, 6, 6, 2]');
    expect(error.message).toContain('[3, 6, 2, 6]');
    expect(thrown(() => backend.checkInputShape([6, 6, 2])).message).toContain('[6, 6, 2]');

    // Through core, and on a direct call, before TF.js sees the tensor.
    const x = hostTensor(new Float32Array(72), [1, 6, 2, 6]);
    const viaExplain = await rejection(explain(backend, 'gradient', x, { target: 0 }));
    expect((viaExplain as AttributionError).code).toBe('INVALID_SHAPE');
    const direct = await rejection(backend.gradients(x, Int32Array.from([0])));
    expect((direct as AttributionError).code).toBe('INVALID_SHAPE');
  });

  it('a fixed batch size is checked per call, not against the whole input', async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ batchInputShape: [2, 3], units: 2 })] });
    const backend = createTfjsBackend(model);
    expect(() => backend.checkInputShape([5, 3])).not.toThrow();
    const error = await rejection(backend.logits(hostTensor(new Float32Array(9), [3, 3])));
    expect((error as AttributionError).code).toBe('INVALID_SHAPE');
    expect(error.message).toContain('[2, 3]');
  });

  it('a model output that is not rank 2: BACKEND_OUTPUT naming the shape', async () => {
    const backend = createTfjsBackend((x) => tf.reshape(x, [-1, 2, 3]));
    const x = randomInput(mlpSpec(), 2, 1);
    for (const call of [backend.logits(x), backend.gradients(x, Int32Array.from([0, 1]))]) {
      const error = await rejection(call);
      expect(error).toBeInstanceOf(AttributionError);
      expect((error as AttributionError).code).toBe('BACKEND_OUTPUT');
      expect(error.message).toContain('[2, 2, 3]');
      expect(error.message).toContain('[2, K]');
    }
  });

  it('a kernel without a registered gradient: the kernel and how to register gradients', async () => {
    const elu = tf.getGradient('Elu');
    tf.unregisterGradient('Elu');
    try {
      const backend = createTfjsBackend((x) => tf.elu(x));
      const error = await rejection(backend.gradients(randomInput(mlpSpec(), 2, 1), Int32Array.from([0, 1])));
      expect(error).toBeInstanceOf(MissingGradientError);
      expect((error as MissingGradientError).kernelName).toBe('Elu');
      expect((error as MissingGradientError).code).toBe('UNSUPPORTED_MODEL');
      expect(error.message).toContain('Elu');
      expect(error.message).toContain("import '@tensorflow/tfjs'");
      expect(error.message).toContain('register_all_gradients');
    } finally {
      tf.registerGradient(elu);
    }
  });

  it('no gradients registered at all: refused at construction', () => {
    const saved = [tf.Multiply, tf.Sum, tf.BatchMatMul].map((name) => tf.getGradient(name));
    saved.forEach((config) => tf.unregisterGradient(config.kernelName));
    try {
      const error = thrown(() => createTfjsBackend(layersModel(mlpSpec())));
      expect(error).toBeInstanceOf(MissingGradientError);
      expect(error.message).toMatch(/no TF.js gradients are registered/);
      expect(error.message).toContain('register_all_gradients');
    } finally {
      saved.forEach((config) => tf.registerGradient(config));
    }
  });

  it('models with several inputs or outputs, and non-models, are refused', () => {
    const a = tfl.input({ shape: [3] });
    const b = tfl.input({ shape: [3] });
    const twoInputs = tfl.model({
      inputs: [a, b],
      outputs: tfl.layers.dense({ units: 2 }).apply(tfl.layers.concatenate().apply([a, b])) as tfl.SymbolicTensor,
    });
    expect(thrown(() => createTfjsBackend(twoInputs)).message).toMatch(/2 inputs/);
    const twoOutputs = tfl.model({
      inputs: a,
      outputs: [tfl.layers.dense({ units: 2 }).apply(a), tfl.layers.dense({ units: 2 }).apply(a)] as tfl.SymbolicTensor[],
    });
    expect(thrown(() => createTfjsBackend(twoOutputs)).message).toMatch(/2 outputs/);
    expect(() => createTfjsBackend({} as TfjsModel)).toThrow(TypeError);
  });

  it('a disposed backend refuses work; the model stays usable', async () => {
    const model = layersModel(mlpSpec());
    const backend = createTfjsBackend(model);
    backend.dispose();
    const refusal = await rejection(backend.logits(randomInput(mlpSpec(), 1, 1)));
    expect(refusal.message).toMatch(/disposed/);
    expect((refusal as AttributionError).code).toBe('DISPOSED');
    const y = model.predict(tf.zeros([1, 6])) as tf.Tensor;
    expect(y.shape).toEqual([1, 4]);
    y.dispose();
  });
});
