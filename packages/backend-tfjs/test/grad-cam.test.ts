import { beforeAll, describe, expect, it } from 'vitest';
import { explain, hostTensor } from '@saliency/core';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { createTfjsBackend } from '../src/index.js';
import { channelsLast, loadParityFixture, readXaiReference } from './helpers/parity-fixtures.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';

/**
 * Grad-CAM, Grad-CAM++ and Grad-CAM of time series on the parity fixtures'
 * TF.js LayersModels against PyTorch's hooked activations and gradients in
 * float64 (packages/backend-onnx/scripts/make-xai-references.py), the
 * references the ONNX backend is held to on the same models' ONNX form. The
 * TF.js models are channels last: their maps come as [B, ...positions, 1],
 * the same values as PyTorch's [B, 1, ...positions].
 */
interface Reference {
  inputShape: number[];
  input: number[];
  targets: number[];
  layer_shape: number[];
  grad_cam?: number[];
  grad_cam_plus_plus?: number[];
  grad_cam_timeseries?: number[];
  named_layer_cam?: number[];
}

const TOLERANCE = 1e-5;

/** The TF.js layer of the PyTorch module whose output the reference explains (LAYER and NAMED_LAYER of the script). */
const FIXTURES = [
  { name: 'cnn_bn', defaultLayer: 'maxpooling2d_2', namedLayer: 'maxpooling2d_1' },
  { name: 'resnet_block', defaultLayer: 'relu_5' },
  { name: 'image_model', defaultLayer: 'maxpooling2d_3' },
  { name: 'cnn1d', defaultLayer: 'relu_2', namedLayer: 'maxpooling1d_1' },
] as const;

describe.each(BACKENDS)('Grad-CAM on TF.js %s against PyTorch', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it.each(FIXTURES)('$name', async ({ name, defaultLayer, ...fixture }) => {
    const reference = readXaiReference<Reference>(name);
    const input = channelsLast(reference.input, reference.inputShape);
    const x = hostTensor(Float32Array.from(input.values), input.shape);
    const targets = Int32Array.from(reference.targets);
    const positions = input.shape.slice(1, -1);
    const model = await loadParityFixture(name);
    const before = tf.memory().numTensors;
    try {
      const backend = createTfjsBackend(model);
      const layer = await backend.layerGradients(x, targets, undefined);
      expect(layer.layer).toBe(defaultLayer);
      expect(layer.activation.shape).toEqual(reference.layer_shape);
      expect(layer.gradient.shape).toEqual(reference.layer_shape);
      expect(layer.inputChannelsLast).toBe(true);

      const methods =
        reference.grad_cam_timeseries === undefined ? (['grad_cam', 'grad_cam_plus_plus'] as const) : (['grad_cam_timeseries'] as const);
      for (const method of methods) {
        const map = await explain(backend, method, x, { target: reference.targets });
        expect(map.shape, method).toEqual([x.shape[0], ...positions, 1]);
        expect(maxRelativeError(map.data, reference[method]!), `${name} ${method}`).toBeLessThanOrEqual(TOLERANCE);
      }
      if ('namedLayer' in fixture) {
        const method = methods[0];
        const map = await explain(backend, method, x, { target: reference.targets, layer: fixture.namedLayer });
        expect(maxRelativeError(map.data, reference.named_layer_cam!), `${name} ${method} at ${fixture.namedLayer}`).toBeLessThanOrEqual(
          TOLERANCE,
        );
      }
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });
});
