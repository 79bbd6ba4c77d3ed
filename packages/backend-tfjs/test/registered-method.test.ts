import { beforeAll, describe, expect, it } from 'vitest';
import { explain, hostTensor, registerMethod, type HostTensor } from '@saliency/core';
import { referenceAttribution } from '@saliency/core/reference';
import { noisyRms } from '@saliency/dev-support/toy-method';
import { createTfjsBackend } from '../src/index.js';
import { expectClose } from './helpers/compare.js';
import { float64Model } from './helpers/float64-model.js';
import { prng, uniform } from './helpers/prng.js';
import { layersModel, mlpSpec, randomInput } from './helpers/test-models.js';
import { useBackend } from './helpers/tfjs-setup.js';

// A method from outside the library (dev-support/toy-method.mjs), added
// through the public registration path and run on a real TF.js runtime.
registerMethod(noisyRms);

describe('a method added with registerMethod, on tfjs-cpu', () => {
  beforeAll(() => useBackend('cpu'));

  const spec = mlpSpec();
  const reference = float64Model(spec);
  const x = randomInput(spec, 2, 5);
  const size = x.data.length / 2;
  const samples = 6;
  const noise = hostTensor(Float32Array.from(uniform(prng(17), samples * size, 0.3)), [samples, size]);
  const targets = [2, 0];

  /** √((1/N) Σ_i g(x + ε_i)²) from its definition, with the plain-JS float64 gradient of the same MLP. */
  function expectedRms(input: HostTensor): Float64Array {
    const out = new Float64Array(input.data.length);
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < samples; i++) {
        const row = Float64Array.from({ length: size }, (_, e) => Math.fround(input.data[b * size + e]! + noise.data[i * size + e]!));
        const g = reference.gradient(row, targets[b]!);
        for (let e = 0; e < size; e++) out[b * size + e] = out[b * size + e]! + g[e]! ** 2 / samples;
      }
    }
    return out.map(Math.sqrt);
  }

  it('explain by name matches its definition, moments reduced on the device', async () => {
    const backend = createTfjsBackend(layersModel(spec));
    const options = { target: targets, noise, numSamples: samples, batchSize: 4 };
    const map = await explain(backend, 'noisy_rms', x, options);
    expect(map.shape).toEqual(x.shape);
    expectClose(map.data, expectedRms(x), 1e-4, 'noisy_rms');
    expectClose(referenceAttribution('noisy_rms', reference, x, options), expectedRms(x), 1e-9, 'reference');
    const signed = await explain(backend, 'noisy_rms_x_input_x_sign', x, options);
    expectClose(
      signed.data,
      expectedRms(x).map((v, e) => v * Math.abs(x.data[e]!)),
      1e-4,
      'noisy_rms_x_input_x_sign',
    );
  });
});
