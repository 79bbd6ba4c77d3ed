import { describe, expect, it } from 'vitest';
import {
  AttributionError,
  checkNoiseDescription,
  explain,
  fillStandardNormal,
  hostTensor,
  noiseKey,
  noisyRows,
  philox4x32,
  type GradientBackend,
  type NoiseDescription,
} from '../src/index.js';
import { closedFormBackend, quadraticModel } from './closed-form-models.js';

const x = hostTensor(
  Array.from({ length: 5 * 8 }, (_, i) => Math.sin(1.3 * i) * (1 + (i % 3))),
  [5, 8],
);

/**
 * The closed-form backend declaring device noise: it receives descriptions,
 * which it expands with `noisyRows`, and records them.
 */
function describedNoiseBackend(): GradientBackend & { descriptions: NoiseDescription[]; rowCalls: () => number } {
  const inner = closedFormBackend(quadraticModel(8, 3));
  const descriptions: NoiseDescription[] = [];
  return {
    ...inner,
    deviceNoise: true,
    descriptions,
    rowCalls: () => inner.calls.moments,
    async noisyGradientMoments(clean, noise, targets) {
      descriptions.push(noise);
      const rows = noisyRows(clean, noise);
      const moments = await inner.gradientMoments!(rows, targets, noise.samples);
      inner.calls.moments--;
      return moments;
    },
  };
}

describe('the noise as a description', () => {
  it.each(['vargrad', 'smoothgrad', 'smoothgrad_squared'])(
    '%s: a backend that expands the description gives the very map of noisy rows (batchSize 7 and 64)',
    async (method) => {
      for (const batchSize of [7, 64]) {
        for (const sigma of [{ noiseScale: 0.3 }, { noiseLevel: 0.2 }]) {
          const options = { numSamples: 12, batchSize, seed: 2 ** 40 + 17, ...sigma };
          const rows = await explain(closedFormBackend(quadraticModel(8, 3)), method, x, options);
          const described = describedNoiseBackend();
          const map = await explain(described, method, x, options);
          expect(described.rowCalls()).toBe(0);
          expect(described.descriptions.length).toBeGreaterThan(0);
          expect(Array.from(map.data)).toEqual(Array.from(rows.data));
        }
      }
    },
  );

  it('describes every call: example and sample offsets, σ per example, the key of a seed above 2³²', async () => {
    const described = describedNoiseBackend();
    await explain(described, 'vargrad', x, { numSamples: 10, batchSize: 4, seed: 2 ** 33 + 5, noiseScale: 0.5 });
    // 10 samples in calls of 4: rows 0–3, 4–7, 8–9 of each example in turn.
    expect(described.descriptions.map((d) => [d.firstExample, d.firstSample, d.samples])).toEqual(
      [0, 1, 2, 3, 4].flatMap((example) => [
        [example, 0, 4],
        [example, 4, 4],
        [example, 8, 2],
      ]),
    );
    expect(described.descriptions.every((d) => d.sigma.length === 1 && d.sigma[0] === 0.5 && d.seed === 2 ** 33 + 5)).toBe(true);
    expect(noiseKey(2 ** 33 + 5)).toEqual([5, 2]);
  });

  it('caller-supplied noise still comes as rows', async () => {
    const described = describedNoiseBackend();
    const noise = hostTensor(new Float32Array(4 * 8).fill(0.25), [4, 8]);
    await explain(described, 'vargrad', x, { numSamples: 4, noise });
    expect(described.descriptions).toEqual([]);
    expect(described.rowCalls()).toBeGreaterThan(0);
  });

  it('noisyRows is x + σ·z with z from the words of counter [⌊e/4⌋, sample, example, 0]', () => {
    const clean = hostTensor(
      Float32Array.from({ length: 2 * 6 }, (_, i) => i - 5),
      [2, 6],
    );
    const noise: NoiseDescription = {
      seed: 9,
      sigma: Float64Array.of(0.5, 2),
      firstExample: 3,
      firstSample: 7,
      samples: 2,
      exampleShape: [6],
    };
    const rows = noisyRows(clean, noise);
    expect(rows.shape).toEqual([4, 6]);
    // Row 3 = example 4 (g = 1), sample 8; element 5 is the sine of the pair (words 0, 1) of block 1.
    const words = new Uint32Array(4);
    philox4x32([1, 8, 4, 0], [9, 0], words);
    const u0 = (words[0]! + 0.5) / 2 ** 32;
    const u1 = (words[1]! + 0.5) / 2 ** 32;
    const z = Math.sqrt(-2 * Math.log(u0)) * Math.sin(2 * Math.PI * u1);
    expect(rows.data[3 * 6 + 5]).toBeCloseTo(clean.data[6 + 5]! + 2 * z, 5);
    const z4 = new Float32Array(6);
    fillStandardNormal(z4, 9, 4, 8);
    expect(rows.data[3 * 6 + 5]).toBe(Math.fround(clean.data[11]! + Math.fround(2 * z4[5]!)));
  });

  it('checkNoiseDescription refuses a description that does not fit its examples, naming what', () => {
    const clean = hostTensor(new Float32Array(2 * 6), [2, 6]);
    const good: NoiseDescription = {
      seed: 1,
      sigma: Float64Array.of(1, 1),
      firstExample: 0,
      firstSample: 0,
      samples: 3,
      exampleShape: [6],
    };
    expect(() => checkNoiseDescription('b', clean, good)).not.toThrow();
    const cases: [Partial<NoiseDescription>, RegExp][] = [
      [{ exampleShape: [2, 3] }, /exampleShape \[2, 3\]/],
      [{ sigma: Float64Array.of(1) }, /sigma must hold 2 finite values/],
      [{ sigma: Float64Array.of(1, Number.NaN) }, /sigma must hold 2 finite values/],
      [{ seed: -1 }, /seed must be an integer/],
      [{ samples: 0 }, /samples must be a positive integer/],
      [{ firstSample: 2 ** 32 - 2 }, /firstSample \+ 3 ≤ 2\^32/],
      [{ firstExample: 0.5 }, /firstExample must be an integer/],
    ];
    for (const [change, message] of cases) {
      const error = (() => {
        try {
          checkNoiseDescription('b', clean, { ...good, ...change });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(AttributionError);
      expect((error as AttributionError).code).toBe('INVALID_OPTION');
      expect((error as Error).message).toMatch(message);
    }
  });
});
