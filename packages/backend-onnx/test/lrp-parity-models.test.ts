import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { explain, hostTensor } from '@saliency/core';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';

/**
 * LRP on the parity fixture models the rules cover (docs/methods.md, "LRP"):
 * with only ReLU, pooling, residual Adds and reshapes between the linear
 * layers, the z-rule passes the ordinary gradient at every layer, so LRP-z
 * is Gradient×Input — checked against the backend's own gradient, which the
 * parity and xai tests hold to PyTorch autograd.
 */
const MODELS = ['mlp', 'cnn_bn', 'resnet_block', 'image_model', 'cnn1d'];
const repository = new URL('../../../', import.meta.url);

describe.each(MODELS)('LRP on the parity model %s', (name) => {
  const reference = JSON.parse(readFileSync(new URL(`./fixtures/xai/${name}.json`, import.meta.url), 'utf8'));
  const bytes = readFileSync(new URL(reference.onnx, repository));
  const x = hostTensor(Float32Array.from(reference.input), reference.inputShape);

  it('gives LRP-z as Gradient×Input, and every rule family a finite map', async () => {
    const backend = createOnnxBackend(ortNode as unknown as OnnxRuntimeModule, bytes);
    try {
      const target = reference.targets;
      const gradientXInput = await explain(backend, 'gradient_x_input', x, { target });
      const z = await explain(backend, 'lrp_z', x, { target });
      expect(maxRelativeError(z.data, gradientXInput.data)).toBeLessThanOrEqual(1e-6);
      for (const method of ['lrpsign_epsilon_0_25_std_x', 'lrp_alpha_2_beta_1', 'lrp_epsilon_gamma_box', 'w2lrp_zplus']) {
        const map = await explain(backend, method, x, { target });
        expect(map.data.every(Number.isFinite), method).toBe(true);
        expect(
          map.data.some((v) => v !== 0),
          method,
        ).toBe(true);
      }
    } finally {
      await backend.dispose();
    }
  });
});
