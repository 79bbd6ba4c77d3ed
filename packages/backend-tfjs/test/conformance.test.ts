import { backendConformance } from '@saliency/dev-support/backend-conformance';
import { createTfjsBackend } from '../src/index.js';
import { float64Model } from './helpers/float64-model.js';
import { layersModel, mlpSpec, randomInput } from './helpers/test-models.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';

// The tests every GradientBackend passes, on each TF.js backend that runs in Node.
for (const runtime of BACKENDS) {
  backendConformance(`TfjsBackend on tfjs-${runtime}`, async () => {
    await useBackend(runtime);
    const spec = mlpSpec();
    const model = layersModel(spec);
    return {
      create: async () => {
        await useBackend(runtime);
        return createTfjsBackend(model);
      },
      input: randomInput(spec, 3, 7),
      reference: float64Model(spec),
      // The model's weights are the caller's and stay; everything else must go.
      resources: () => tf.memory().numTensors,
    };
  });
}
