import { describe, expect, it } from 'vitest';
import { explain, hostTensor, type GradientBackend } from '../src/index.js';
import { referenceAttribution } from '../src/reference/index.js';
import { closedFormBackend, quadraticModel, relativeError } from './closed-form-models.js';

// A backend that reduces some calls on its device and returns the per-row
// gradients of others (as OnnxBackend does for groups over WebGL's texture
// limit): core reduces those itself, and the map is the same.
describe('gradientMoments returning per-row gradients', () => {
  const model = quadraticModel(3, 2);
  const x = hostTensor([0.3, -0.7, 0.2, 1.1, -0.4, 0.9], [2, 3]);
  const options = { target: [1, 0], numSamples: 6, noiseScale: 0.4, seed: 5, batchSize: 4 };

  function mixedBackend(): GradientBackend & { perRowCalls: number } {
    const inner = closedFormBackend(model);
    const backend = {
      name: 'mixed',
      perRowCalls: 0,
      logits: inner.logits,
      gradients: inner.gradients,
      async gradientMoments(input: Parameters<GradientBackend['gradients']>[0], targets: Int32Array, groupSize: number) {
        if (groupSize < 3) return inner.gradientMoments!(input, targets, groupSize);
        backend.perRowCalls++;
        return { gradients: await inner.gradients(input, targets) };
      },
    };
    return backend;
  }

  it.each(['vargrad', 'smoothgrad', 'smoothgrad_squared'])('%s matches the float64 reference', async (method) => {
    const backend = mixedBackend();
    const map = await explain(backend, method, x, options);
    // batchSize 4 < 6 samples: each example runs as calls of 4 and 2 rows, so both kinds of result occur.
    expect(backend.perRowCalls).toBe(2);
    expect(relativeError(map.data, referenceAttribution(method, model, x, options))).toBeLessThan(1e-5);
  });

  it('a per-row result of the wrong shape is BACKEND_OUTPUT', async () => {
    const inner = closedFormBackend(model);
    const backend: GradientBackend = {
      name: 'short',
      logits: inner.logits,
      gradients: inner.gradients,
      gradientMoments: async () => ({ gradients: { data: new Float32Array(3), shape: [1, 3] } }),
    };
    await expect(explain(backend, 'vargrad', x, options)).rejects.toThrow(
      'short: gradientMoments().gradients returned shape [1, 3] with 3 values; expected [4, 3]',
    );
  });
});
