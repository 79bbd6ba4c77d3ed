import { AttributionError } from './errors.js';
import type { NoiseDescription } from './noise/noise-description.js';
import { formatShape, type HostTensor } from './tensor.js';

/**
 * The checks of the `GradientBackend` contract that every backend makes, in
 * one place so that every backend refuses the same input with the same code
 * and message. Core checks a whole run before it calls a backend; these
 * guard a backend's own entry points, which callers may also use directly.
 */

/** How a model ending in Softmax or LogSoftmax is differentiated (docs/methods.md, "Output heads"). */
export type SoftmaxHandling = 'strip' | 'keep';

/** The `softmax` option of a backend factory, default `'strip'`; anything else is `INVALID_OPTION`. */
export function softmaxOption(factory: string, value: unknown): SoftmaxHandling {
  if (value === undefined) return 'strip';
  if (value !== 'strip' && value !== 'keep') {
    throw new AttributionError('INVALID_OPTION', `${factory}: option softmax must be 'strip' or 'keep', got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The error of every call on a disposed backend. */
export function disposedError(backendName: string): AttributionError {
  return new AttributionError('DISPOSED', `${backendName}: the backend was disposed`);
}

/** Refuses a targets array that does not hold one target per row. */
export function checkTargetCount(backendName: string, targets: Int32Array, rows: number): void {
  if (targets.length !== rows) {
    throw new AttributionError('INVALID_TARGET', `${backendName}: ${targets.length} targets for ${rows} rows; expected one target per row`);
  }
}

/** Refuses a `gradientMoments` group size that does not split the rows into whole groups. */
export function checkGroupSize(rows: number, groupSize: number): void {
  if (!Number.isInteger(groupSize) || groupSize < 1 || rows % groupSize !== 0) {
    throw new AttributionError(
      'INVALID_OPTION',
      `gradientMoments: groupSize must be a positive integer dividing the ${rows} rows, got ${groupSize}`,
    );
  }
}

/**
 * The cotangent of the logits that selects each row's target logit: row `r`
 * is the one-hot vector of `targets[r]` over `classes` logits, so that the
 * vector–Jacobian product gives `∂ f_{t_r}(x_r) / ∂ x_r`. A target outside
 * `[0, classes)` is `INVALID_TARGET`; `firstRow` numbers the rows in the
 * message when these are a slice of a larger call.
 */
export function oneHotRows(targets: Int32Array, classes: number, firstRow = 0): Float32Array {
  const rows = new Float32Array(targets.length * classes);
  targets.forEach((target, row) => {
    if (!Number.isInteger(target) || target < 0 || target >= classes) {
      throw new AttributionError(
        'INVALID_TARGET',
        `target ${target} of row ${firstRow + row} is not a class of the model's ${classes} logits (0 to ${classes - 1})`,
      );
    }
    rows[row * classes + target] = 1;
  });
  return rows;
}

/**
 * Refuses a noise description that does not fit the clean examples `x`
 * `[G, ...S]`: `S` must be its `exampleShape`, `sigma` must hold `G` finite
 * values, the seed and offsets must be integers whose counters stay below 2³²
 * (docs/methods.md, "Noise").
 */
export function checkNoiseDescription(backendName: string, x: HostTensor, noise: NoiseDescription): void {
  const bad = (what: string) => new AttributionError('INVALID_OPTION', `${backendName}: noise description: ${what}`);
  const groups = x.shape[0]!;
  const expected = [groups, ...noise.exampleShape];
  if (x.shape.length !== expected.length || x.shape.some((d, i) => d !== expected[i])) {
    throw bad(
      `examples of shape ${formatShape(x.shape)} do not match exampleShape ${formatShape(noise.exampleShape)}; expected ${formatShape(expected)}`,
    );
  }
  if (noise.sigma.length !== groups || !noise.sigma.every(Number.isFinite)) {
    throw bad(`sigma must hold ${groups} finite values (one per example), got ${noise.sigma.length}`);
  }
  if (!Number.isSafeInteger(noise.seed) || noise.seed < 0) throw bad(`seed must be an integer in [0, 2^53), got ${noise.seed}`);
  if (!Number.isInteger(noise.samples) || noise.samples < 1) throw bad(`samples must be a positive integer, got ${noise.samples}`);
  for (const [name, first, count] of [
    ['firstExample', noise.firstExample, groups],
    ['firstSample', noise.firstSample, noise.samples],
  ] as const) {
    if (!Number.isInteger(first) || first < 0 || first + count > 2 ** 32) {
      throw bad(`${name} must be an integer ≥ 0 with ${name} + ${count} ≤ 2^32 (a Philox counter word), got ${first}`);
    }
  }
}
