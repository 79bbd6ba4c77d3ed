import { AttributionError } from './errors.js';

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
