import { readFileSync } from 'node:fs';
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
      expect(backend.backwardRuleSets).toEqual(['guided_backprop', 'deconvnet', 'lrp']);
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

/**
 * Keras's ReLU6 (a tfjs-layers ReLU with maxValue 6) keeps its ordinary
 * gradient under the modified passes (docs/methods.md, "Modified backward
 * rules"), as PyTorch's nn.ReLU6 does under its hooks on nn.ReLU: the parity
 * fixture depthwise_separable, against the parity app's PyTorch references
 * (apps/parity/fixtures/make-xai-references.py) at the parity input.
 */
describe.each(BACKENDS)('ReLU6 under Guided Backprop and DeconvNet on TF.js %s', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it('depthwise_separable', async () => {
    const parityFile = (folder: string) =>
      JSON.parse(readFileSync(new URL(`../../../apps/parity/fixtures/${folder}/depthwise_separable.json`, import.meta.url), 'utf8'));
    const fixture = parityFile('reference') as { input: number[]; inputShape: number[]; targets: number[] };
    const reference = parityFile('xai-reference') as Pick<Reference, 'guided_backprop' | 'deconvnet'>;
    const input = channelsLast(fixture.input, fixture.inputShape);
    const x = hostTensor(Float32Array.from(input.values), input.shape);
    const model = await loadParityFixture('depthwise_separable');
    try {
      const backend = createTfjsBackend(model);
      for (const method of ['guided_backprop', 'deconvnet'] as const) {
        const map = await explain(backend, method, x, { target: fixture.targets });
        const expected = channelsLast(reference[method], fixture.inputShape).values;
        expect(maxRelativeError(map.data, expected), method).toBeLessThanOrEqual(TOLERANCE);
      }
    } finally {
      model.dispose();
    }
  });
});
