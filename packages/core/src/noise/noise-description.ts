import { sizeOf, type HostTensor } from '../tensor.js';
import { fillStandardNormal } from './gaussian-noise.js';

const TWO_POW_32 = 4294967296;

/**
 * Core's seeded noise for one backend call, described instead of written out
 * (docs/methods.md, "Noise"), for a backend that generates it on its device.
 * With `x` the call's clean examples `[G, ...S]` and `n = samples`, row
 * `g·n + i` of the call is
 *
 *   x[g] + sigma[g] · z(seed, firstExample + g, firstSample + i, e)
 *
 * for each element `e` of `S`, with `z` core's standard normal
 * (`fillStandardNormal`): Philox4x32-10 words of counter
 * `[⌊e/4⌋, firstSample + i, firstExample + g, 0]` under `noiseKey(seed)`,
 * turned into normals by Box–Muller.
 */
export interface NoiseDescription {
  /** The run's seed, an integer in [0, 2⁵³). */
  readonly seed: number;
  /** σ of each of the call's examples (`G` values). */
  readonly sigma: Float64Array;
  /** The example index (in the whole batch) of the call's first example. */
  readonly firstExample: number;
  /** The sample index of each example's first row in this call. */
  readonly firstSample: number;
  /** Rows (samples) per example in this call. */
  readonly samples: number;
  /** `S`: one example's shape, without the batch axis. */
  readonly exampleShape: readonly number[];
}

/** The Philox key words `[seed mod 2³², ⌊seed / 2³²⌋]` of a seed. */
export function noiseKey(seed: number): [number, number] {
  return [(seed % TWO_POW_32) >>> 0, Math.floor(seed / TWO_POW_32) >>> 0];
}

/**
 * The noisy rows `[G·n, ...S]` that `noise` describes for the clean examples
 * `x`, written on the host with core's generator: what a backend without a
 * device generator receives, and what a device generator is compared with.
 */
export function noisyRows(x: HostTensor, noise: NoiseDescription): HostTensor {
  const size = sizeOf(noise.exampleShape);
  const groups = noise.sigma.length;
  const data = new Float32Array(groups * noise.samples * size);
  for (let g = 0; g < groups; g++) {
    for (let i = 0; i < noise.samples; i++) {
      const out = data.subarray((g * noise.samples + i) * size, (g * noise.samples + i + 1) * size);
      writeNoisyRow(
        x.data.subarray(g * size, (g + 1) * size),
        noise.seed,
        noise.sigma[g]!,
        noise.firstExample + g,
        noise.firstSample + i,
        out,
      );
    }
  }
  return { data, shape: [groups * noise.samples, ...noise.exampleShape] };
}

/** `out = x + σ · z(seed, example, sample, ·)` for one example's clean values `x`. */
export function writeNoisyRow(x: Float32Array, seed: number, sigma: number, example: number, sample: number, out: Float32Array): void {
  fillStandardNormal(out, seed, example, sample);
  // ε = σ·z is a float32 before it is added, as in the rows of seededNoise.
  for (let e = 0; e < out.length; e++) out[e] = x[e]! + Math.fround(out[e]! * sigma);
}
