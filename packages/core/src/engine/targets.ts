import { AttributionError } from '../errors.js';
import { formatShape, type HostTensor } from '../tensor.js';

/** Checks that a backend's logits for a batch of `batch` rows are `[batch, K]`, and returns K. */
export function numClasses(logits: HostTensor, batch: number, backendName: string): number {
  const [rows, classes] = logits.shape;
  if (logits.shape.length !== 2 || rows !== batch || classes === undefined || classes < 1) {
    throw new AttributionError(
      'BACKEND_OUTPUT',
      `${backendName}: the model output has shape ${formatShape(logits.shape)}; ` +
        `expected logits of shape [${batch}, K] for a batch of ${batch}`,
    );
  }
  return classes;
}

/** The first index of the largest logit of each row. */
export function argmaxRows(logits: HostTensor): Int32Array {
  const [rows, classes] = logits.shape as [number, number];
  const result = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let k = 1; k < classes; k++) {
      if (logits.data[r * classes + k]! > logits.data[r * classes + best]!) best = k;
    }
    result[r] = best;
  }
  return result;
}

/**
 * One target class per example: the given number for all, the given list,
 * or by default the argmax of the clean input's logits (computed lazily, so
 * it is asked for only when needed).
 */
export function resolveTargets(
  target: number | readonly number[] | undefined,
  batch: number,
  classes: number,
  cleanLogits: () => HostTensor,
): Int32Array {
  if (target === undefined) return argmaxRows(cleanLogits());
  const list = typeof target === 'number' ? new Array<number>(batch).fill(target) : target;
  if (!Array.isArray(list) && !ArrayBuffer.isView(list)) {
    throw new AttributionError('INVALID_TARGET', `target must be a number or a list of numbers; got ${String(target)}`);
  }
  if (list.length !== batch) {
    throw new AttributionError(
      'INVALID_TARGET',
      `target lists ${list.length} classes but the input holds ${batch} example${batch === 1 ? '' : 's'}; give one per example or a single number`,
    );
  }
  const result = new Int32Array(batch);
  list.forEach((t, b) => {
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t >= classes) {
      throw new AttributionError(
        'INVALID_TARGET',
        `target ${String(t)}${typeof target === 'number' ? '' : ` (example ${b})`} is not a class index: the model has ${classes} classes, so a target is an integer in [0, ${classes - 1}]`,
      );
    }
    result[b] = t;
  });
  return result;
}
