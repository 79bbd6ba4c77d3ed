import { beforeAll, describe, expect, it } from 'vitest';
import { explain, hostTensor } from '@saliency/core';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { createTfjsBackend } from '../src/index.js';
import { channelsLast, loadParityFixture, readXaiReference } from './helpers/parity-fixtures.js';
import { BACKENDS, useBackend } from './helpers/tfjs-setup.js';

/**
 * Guided Backprop and DeconvNet on the parity fixtures' TF.js LayersModels
 * (the same functions as their PyTorch definitions, channels last) against
 * PyTorch's own implementations by backward hooks on nn.ReLU, in float64:
 * the references of packages/backend-onnx/scripts/make-xai-references.py,
 * written channels first and moved to channels last here.
 */
interface Reference {
  inputShape: number[];
  input: number[];
  targets: number[];
  guided_backprop: number[];
  deconvnet: number[];
}

const TOLERANCE = 1e-5;
const NAMES = ['mlp', 'cnn_bn', 'resnet_block', 'image_model', 'cnn1d'];

describe.each(BACKENDS)('Guided Backprop and DeconvNet on TF.js %s against PyTorch', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it.each(NAMES)('%s', async (name) => {
    const reference = readXaiReference<Reference>(name);
    const input = channelsLast(reference.input, reference.inputShape);
    const x = hostTensor(Float32Array.from(input.values), input.shape);
    const model = await loadParityFixture(name);
    try {
      const backend = createTfjsBackend(model);
      expect(backend.backwardRuleSets).toEqual(['guided_backprop', 'deconvnet']);
      for (const method of ['guided_backprop', 'deconvnet'] as const) {
        const map = await explain(backend, method, x, { target: reference.targets });
        const expected = channelsLast(reference[method], reference.inputShape).values;
        expect(maxRelativeError(map.data, expected), `${name} ${method}`).toBeLessThanOrEqual(TOLERANCE);
      }
      // The ordinary gradient afterwards: the modified rules were only installed for the call.
      const gradient = await backend.gradients(x, Int32Array.from(reference.targets));
      expect(maxRelativeError(gradient.data, channelsLast(reference.guided_backprop, reference.inputShape).values)).toBeGreaterThan(
        TOLERANCE,
      );
    } finally {
      model.dispose();
    }
  });
});
