import { AttributionError } from '../errors.js';
import type { RowKind } from '../methods/rule.js';
import { writeNoisyRow } from '../noise/noise-description.js';
import { suppliedNoise, type NoiseFunction, type NoiseInput } from '../noise/noise-source.js';
import { formatShape, sizeOf, type HostTensor } from '../tensor.js';
import { checkInput, countNonFinite } from './input.js';
import type { ResolvedOptions } from './options.js';

/** Writes model row `row` of example `example` (a noisy sample, a path point) into `out`. */
export type RowWriter = (example: number, row: number, out: Float32Array) => void;

/** Core's seeded noise of a run, as a backend with `deviceNoise` receives it (`NoiseDescription`). */
export interface SeededNoise {
  readonly seed: number;
  readonly sigma: (example: number) => number;
  /** The batch the noise is added to. */
  readonly x: HostTensor;
}

/** The model rows of a method for the batch `x`: how many per example, how each is written, where the path starts. */
export interface ModelRows {
  readonly perExample: number;
  readonly write: RowWriter;
  /** For noisy samples with core's seeded noise: the noise as a description, which a device may generate itself. */
  readonly seededNoise?: SeededNoise;
  /** x' at a flat element index: the baseline for path points, 0 otherwise. */
  readonly baseline: (flatIndex: number) => number;
}

/**
 * The rows of a rule's `RowKind` (docs/methods.md, "Methods"): the example
 * itself; `numSamples` noisy samples x + ε; or `steps` path points
 * x' + (k/m)(x − x'), k = 1..m. Checks the noise and the baseline before
 * any model work.
 */
export function modelRows(kind: RowKind, options: ResolvedOptions, x: HostTensor): ModelRows {
  const size = sizeOf(x.shape.slice(1));
  const zero = () => 0;
  if (kind === 'input') {
    return { perExample: 1, write: (example, _, out) => out.set(x.data.subarray(example * size, (example + 1) * size)), baseline: zero };
  }
  if (kind === 'noisy-samples' && options.noise === undefined) {
    const seededNoise: SeededNoise = { seed: options.seed, sigma: sigmaOfExample(options, x, size), x };
    const write: RowWriter = (example, sample, out) =>
      writeNoisyRow(x.data.subarray(example * size, (example + 1) * size), options.seed, seededNoise.sigma(example), example, sample, out);
    return { perExample: options.numSamples, write, baseline: zero, seededNoise };
  }
  if (kind === 'noisy-samples') {
    const noise = callerNoise(options.noise!, x, options.numSamples);
    const write: RowWriter = (example, sample, out) => {
      noise(example, sample, out);
      const offset = example * size;
      for (let e = 0; e < size; e++) out[e] = x.data[offset + e]! + out[e]!;
    };
    return { perExample: options.numSamples, write, baseline: zero };
  }
  const at = baselineOf(options, x);
  const write: RowWriter = (example, step, out) => {
    const alpha = (step + 1) / options.steps;
    const offset = example * size;
    for (let e = 0; e < size; e++) out[e] = at(offset + e) + alpha * (x.data[offset + e]! - at(offset + e));
  };
  return { perExample: options.steps, write, baseline: at };
}

/** Per-example σ: absolute, or `noiseLevel · (max x_b − min x_b)`. */
export function sigmaOfExample(options: ResolvedOptions, x: { data: ArrayLike<number> }, exampleSize: number) {
  return (example: number): number => {
    if (options.sigma.kind === 'scale') return options.sigma.value;
    let lo = Infinity;
    let hi = -Infinity;
    for (let e = example * exampleSize; e < (example + 1) * exampleSize; e++) {
      lo = Math.min(lo, x.data[e]!);
      hi = Math.max(hi, x.data[e]!);
    }
    return options.sigma.value * (hi - lo);
  };
}

/** The caller's noise ε added to the samples, checked: a tensor whole before any work, a function's output as it comes. */
export function callerNoise(noise: NoiseInput, x: HostTensor, numSamples: number): NoiseFunction {
  const supplied = suppliedNoise(noise, x.shape, numSamples);
  if (typeof noise !== 'function') {
    checkInput(noise, 'noise');
    return supplied;
  }
  return (example, sample, out) => {
    supplied(example, sample, out);
    const bad = countNonFinite(out, [out.length]);
    if (bad.count > 0) {
      throw new AttributionError(
        'NON_FINITE_INPUT',
        `noise function returned ${bad.count} non-finite value${bad.count === 1 ? '' : 's'} (NaN or ±Infinity) ` +
          `for example ${example}, sample ${sample}: ${bad.shown}`,
      );
    }
  };
}

/** The baseline of Integrated Gradients as one value per element of the input. */
export function baselineOf(options: ResolvedOptions, x: HostTensor): (flatIndex: number) => number {
  const { baseline } = options;
  if (typeof baseline === 'number') return () => baseline;
  checkInput({ data: baseline.data, shape: [1, ...baseline.shape] }, 'baseline');
  const exampleSize = sizeOf(x.shape.slice(1));
  if (baseline.data.length === x.data.length) return (i) => baseline.data[i]!;
  if (baseline.data.length === exampleSize) return (i) => baseline.data[i % exampleSize]!;
  throw new AttributionError(
    'INVALID_OPTION',
    `baseline has shape ${formatShape(baseline.shape)}; expected the input's shape ${formatShape(x.shape)} ` +
      `or one example's ${formatShape(x.shape.slice(1))}`,
  );
}
