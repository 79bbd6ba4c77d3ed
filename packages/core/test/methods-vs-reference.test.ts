import { describe, expect, it } from 'vitest';
import { explain, hostTensor, sizeOf } from '../src/index.js';
import { INPUT_GRADIENT_METHODS } from './input-gradient-methods.js';
import { referenceAttribution } from '../src/reference/index.js';
import { closedFormBackend, linearModel, logisticModel, quadraticModel, relativeError } from './closed-form-models.js';

const models = [linearModel(6, 4), quadraticModel(6, 4), logisticModel(6, 4)];
const x = hostTensor(
  Array.from({ length: 3 * 6 }, (_, i) => Math.cos(0.9 * i) * 1.5 - (i % 5 === 0 ? 0.4 : 0)),
  [3, 6],
);
const names = [...INPUT_GRADIENT_METHODS, 'vargrad_x_sign_mu_neg_0_5', 'smoothgrad_x_input_x_sign_mu_0_5'];

describe.each(models)('every method on the $name model against the float64 reference', (model) => {
  describe.each([true, false])('with device moments: %s', (reduceMoments) => {
    it.each(names)('%s', async (name) => {
      const backend = closedFormBackend(model, { reduceMoments });
      const options = { seed: 11, numSamples: 9, batchSize: 7, steps: 8, target: [0, 3, 1] };
      const map = await explain(backend, name, x, options);
      expect(map.shape).toEqual(x.shape);
      const expected = referenceAttribution(name, model, x, options);
      expect(relativeError(map.data, expected)).toBeLessThan(2e-6);
      if (!(model.name === 'linear' && name.startsWith('vargrad'))) {
        // A map that is all zeros would match a zero reference too easily.
        expect(expected.some((v) => v !== 0)).toBe(true);
      }
    });
  });
});

describe('targets', () => {
  it('default to the argmax of the clean logits, per example', async () => {
    const model = quadraticModel(6, 4);
    const backend = closedFormBackend(model);
    const argmax = Array.from({ length: 3 }, (_, b) => {
      const logits = model.logits(Float64Array.from(x.data.subarray(b * 6, (b + 1) * 6)));
      return logits.indexOf(Math.max(...logits));
    });
    expect(new Set(argmax).size).toBeGreaterThan(1);
    const byDefault = await explain(backend, 'gradient', x);
    const explicit = await explain(backend, 'gradient', x, { target: argmax });
    expect(byDefault.data).toEqual(explicit.data);
  });

  it('can be one number for every example', async () => {
    const model = linearModel(6, 4);
    const map = await explain(closedFormBackend(model), 'gradient', x, { target: 2 });
    for (let b = 0; b < 3; b++) {
      expect(relativeError(map.data.subarray(b * 6, (b + 1) * 6), model.gradient(new Float64Array(6), 2))).toBeLessThan(1e-7);
    }
  });
});

describe('inputs of higher rank', () => {
  it('are treated element-wise and keep their shape', async () => {
    const model = quadraticModel(12, 3);
    const image = hostTensor(
      Array.from({ length: 2 * 12 }, (_, i) => Math.sin(i)),
      [2, 2, 3, 2],
    );
    const backend = closedFormBackend(model, { exampleShape: [2, 3, 2] });
    const map = await explain(backend, 'vargrad_x_input', image, { numSamples: 5 });
    expect(map.shape).toEqual([2, 2, 3, 2]);
    expect(sizeOf(map.shape)).toBe(24);
    const flat = hostTensor(image.data, [2, 12]);
    expect(relativeError(map.data, referenceAttribution('vargrad_x_input', model, flat, { numSamples: 5 }))).toBeLessThan(2e-6);
  });
});
