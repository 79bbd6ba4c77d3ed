import { describe, expect, it } from 'vitest';
import { explain, hostTensor } from '../src/index.js';
import { referenceAttribution } from '../src/reference/index.js';
import { closedFormBackend, quadraticModel, relativeError } from './closed-form-models.js';

const model = quadraticModel(4, 2);
const x = hostTensor([0.1, -0.2, 0.3, 0.4, 1, 2, -3, 0.5], [2, 4]);
const N = 6;
const perSample = hostTensor(
  Array.from({ length: N * 4 }, (_, i) => Math.sin(2.1 * i) * 0.3),
  [N, 4],
);
const perExample = hostTensor(
  Array.from({ length: 2 * N * 4 }, (_, i) => Math.cos(1.1 * i) * 0.4),
  [2, N, 4],
);

/** VarGrad of the quadratic from the given noise by hand: 4a² · var(ε) for each element. */
function vargradByHand(noiseOf: (b: number, i: number, e: number) => number, b: number, e: number, target: number): number {
  const gradient = (v: number) =>
    model.gradient(
      Float64Array.from({ length: 4 }, (_, j) => (j === e ? v : 0)),
      target,
    )[e]!;
  const values = Array.from({ length: N }, (_, i) => gradient(x.data[b * 4 + e]! + noiseOf(b, i, e)));
  const mean = values.reduce((s, v) => s + v, 0) / N;
  return values.reduce((s, v) => s + (v - mean) ** 2, 0) / N;
}

describe('caller-supplied noise', () => {
  it.each([
    ['[N, ...S], shared by the examples', perSample, (_b: number, i: number, e: number) => perSample.data[i * 4 + e]!],
    ['[B, N, ...S], per example', perExample, (b: number, i: number, e: number) => perExample.data[(b * N + i) * 4 + e]!],
  ])('as a tensor %s is used as it is', async (_what, noise, noiseAt) => {
    const map = await explain(closedFormBackend(model), 'vargrad', x, { noise, numSamples: N, target: 1, noiseScale: 5 });
    for (let b = 0; b < 2; b++) {
      for (let e = 0; e < 4; e++) {
        expect(map.data[b * 4 + e]).toBeCloseTo(vargradByHand(noiseAt, b, e, 1), 5);
      }
    }
  });

  it('as a function gives what the same values as a tensor give', async () => {
    const fromTensor = await explain(closedFormBackend(model), 'smoothgrad', x, { noise: perExample, numSamples: N });
    const fromFunction = await explain(closedFormBackend(model), 'smoothgrad', x, {
      numSamples: N,
      noise: (b, i, out) => out.set(perExample.data.subarray((b * N + i) * 4, (b * N + i + 1) * 4)),
    });
    expect(fromFunction.data).toEqual(fromTensor.data);
    const reference = referenceAttribution('smoothgrad', model, x, { noise: perExample, numSamples: N });
    expect(relativeError(fromTensor.data, reference)).toBeLessThan(1e-6);
  });

  it('of the wrong shape is refused, naming the shapes that fit', async () => {
    const bad = hostTensor(new Float32Array(5 * 4), [5, 4]);
    await expect(explain(closedFormBackend(model), 'vargrad', x, { noise: bad, numSamples: N })).rejects.toThrow(
      'noise: a tensor of shape [5, 4] does not fit an input of shape [2, 4] with numSamples = 6; expected [6, 4] (shared by all examples) or [2, 6, 4] (one set per example)',
    );
  });
});
