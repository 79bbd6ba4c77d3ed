import { beforeAll, describe, expect, it } from 'vitest';
import { explain, VarGrad, type AttributionOptions, type GradientBackend } from '@saliency/core';
import { referenceAttribution, referenceMethodNames } from '@saliency/core/reference';
import { createTfjsBackend, type TfjsBackend } from '../src/index.js';
import { BACKENDS, useBackend } from './helpers/tfjs-setup.js';
import { float64Model, type ModelSpec } from './helpers/float64-model.js';
import { cnnSpec, layersModel, mlpSpec, randomInput } from './helpers/test-models.js';
import { expectClose } from './helpers/compare.js';

// Every method of input gradients (Guided Backprop and DeconvNet: xai-methods.test.ts), and μ variants of the sign modifier.
const METHODS = [...referenceMethodNames(), 'gradient_x_sign_mu_0_25', 'vargrad_x_sign_mu_neg_0_5', 'smoothgrad_x_input_x_sign_mu_neg_0_1'];

const MODELS: ReadonlyArray<readonly [string, ModelSpec]> = [
  ['MLP', mlpSpec()],
  ['CNN', cnnSpec('a')],
];

/** Three examples; a batchSize of 5 rows splits samples of one example across calls. */
const OPTIONS: AttributionOptions = { seed: 3, target: [1, 3, 0], numSamples: 6, noiseScale: 0.3, batchSize: 5, steps: 8 };

/** The same backend without `gradientMoments`, so that core reduces the rows itself. */
function withoutMoments(backend: TfjsBackend): GradientBackend {
  return {
    name: `${backend.name}-rows`,
    logits: (x) => backend.logits(x),
    gradients: (x, t) => backend.gradients(x, t),
  };
}

describe.each(BACKENDS)('explain() with the TF.js backend on %s', (backendName) => {
  beforeAll(() => useBackend(backendName));

  describe.each(MODELS)('%s', (_, spec) => {
    const reference = float64Model(spec);
    const x = randomInput(spec, 3, 21);
    let backend: TfjsBackend;
    beforeAll(() => {
      backend = createTfjsBackend(layersModel(spec));
    });

    it.each(METHODS)('%s matches the float64 reference', async (method) => {
      const result = await explain(backend, method, x, OPTIONS);
      expect(result.shape).toEqual(x.shape);
      expectClose(result.data, referenceAttribution(method, reference, x, OPTIONS), 1e-4, method);
    });

    it.each(['vargrad', 'smoothgrad', 'smoothgrad_squared'])(
      '%s is the same with core reducing the rows (no gradientMoments)',
      async (method) => {
        const result = await explain(withoutMoments(backend), method, x, OPTIONS);
        expectClose(result.data, referenceAttribution(method, reference, x, OPTIONS), 1e-4, method);
      },
    );

    it('vargrad with default targets (argmax), relative noise and the unbiased variance', async () => {
      const options: AttributionOptions = { seed: 9, numSamples: 5, noiseLevel: 0.2, unbiased: true, batchSize: 7 };
      const result = await explain(backend, 'vargrad', x, options);
      expectClose(result.data, referenceAttribution('vargrad', reference, x, options), 1e-4, 'vargrad');
    });

    it('integrated_gradients with a non-zero baseline', async () => {
      const baseline = randomInput(spec, 1, 5, 0.5);
      const options: AttributionOptions = {
        target: 2,
        steps: 12,
        batchSize: 16,
        baseline: { data: baseline.data, shape: spec.inputShape },
      };
      const result = await explain(backend, 'integrated_gradients', x, options);
      expectClose(result.data, referenceAttribution('integrated_gradients', reference, x, options), 1e-4, 'ig');
    });

    it('new VarGrad(backend, { noiseScale, numSamples }).attribute(x, { target })', async () => {
      const result = await new VarGrad(backend, { noiseScale: 0.5, numSamples: 8 }).attribute(x, { target: 2 });
      const expected = referenceAttribution('vargrad', reference, x, { noiseScale: 0.5, numSamples: 8, target: 2 });
      expectClose(result.data, expected, 1e-4, 'VarGrad');
    });
  });
});
