import { describe, expect, it } from 'vitest';
import { explain, hostTensor, type Progress } from '../src/index.js';
import { closedFormBackend, logisticModel, quadraticModel, relativeError } from './closed-form-models.js';

const x = hostTensor(
  Array.from({ length: 5 * 8 }, (_, i) => Math.sin(1.3 * i)),
  [5, 8],
);

describe('batching', () => {
  it.each(['vargrad', 'smoothgrad', 'smoothgrad_squared', 'integrated_gradients', 'gradient'])(
    '%s gives the same map for batchSize 1, 7 and 64',
    async (method) => {
      for (const reduceMoments of [true, false]) {
        const maps = [];
        for (const batchSize of [1, 7, 64]) {
          const backend = closedFormBackend(logisticModel(8, 3), { reduceMoments });
          maps.push(await explain(backend, method, x, { numSamples: 16, steps: 16, batchSize, seed: 5 }));
          expect(Math.max(...backend.calls.rowsPerCall)).toBeLessThanOrEqual(batchSize);
        }
        expect(relativeError(maps[1]!.data, maps[0]!.data)).toBeLessThan(1e-6);
        expect(relativeError(maps[2]!.data, maps[0]!.data)).toBeLessThan(1e-6);
      }
    },
  );

  it('runs all samples of whole examples in one call when they fit', async () => {
    const backend = closedFormBackend(quadraticModel(8, 3));
    await explain(backend, 'vargrad', x, { numSamples: 16, batchSize: 64 });
    expect(backend.calls.rowsPerCall).toEqual([64, 16]);
    expect(backend.calls.moments).toBe(2);
    expect(backend.calls.logits).toBe(1);
  });

  it('reports progress after every call', async () => {
    const seen: Progress[] = [];
    await explain(closedFormBackend(quadraticModel(8, 3)), 'vargrad', x, {
      numSamples: 10,
      batchSize: 20,
      onProgress: (p) => seen.push(p),
    });
    expect(seen).toEqual([20, 40, 50].map((done) => ({ done, total: 50 })));
  });
});

describe('seeds', () => {
  it('give the same map twice, and another map for another seed', async () => {
    const run = (seed: number) => explain(closedFormBackend(quadraticModel(8, 3)), 'vargrad', x, { seed });
    const [a, b, c] = await Promise.all([run(1), run(1), run(2)]);
    expect(a.data).toEqual(b.data);
    expect(relativeError(c.data, a.data)).toBeGreaterThan(1e-2);
  });

  it('give each example its own noise, independent of the other examples in the batch', async () => {
    const options = { seed: 9, numSamples: 8 };
    const all = await explain(closedFormBackend(quadraticModel(8, 3)), 'vargrad', x, { ...options, target: 1 });
    const first = hostTensor(x.data.subarray(0, 8), [1, 8]);
    const alone = await explain(closedFormBackend(quadraticModel(8, 3)), 'vargrad', first, { ...options, target: 1 });
    // Example 0 gets the same noise alone or in a batch; example 1 gets different noise from example 0.
    expect(relativeError(alone.data, all.data.subarray(0, 8))).toBeLessThan(1e-7);
    const same = hostTensor([...x.data.subarray(0, 8), ...x.data.subarray(0, 8)], [2, 8]);
    const twice = await explain(closedFormBackend(quadraticModel(8, 3)), 'vargrad', same, { ...options, target: 1 });
    expect(relativeError(twice.data.subarray(8), twice.data.subarray(0, 8))).toBeGreaterThan(1e-2);
  });
});
