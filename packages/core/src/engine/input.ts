import { AttributionError } from '../errors.js';
import { formatShape, sizeOf, unravelIndex, type HostTensor } from '../tensor.js';

const SHOWN_POSITIONS = 5;

/**
 * Checks that `x` is a float32 batch `[B, ...S]` with B ≥ 1 whose data fill
 * its shape, and that every value is finite: a NaN or ∞ would only come back
 * as a map of NaN after all the work, so it is refused up front, saying how
 * many there are and where.
 */
export function checkInput(x: HostTensor, what = 'input'): void {
  if (x === null || typeof x !== 'object' || !(x.data instanceof Float32Array) || !Array.isArray(x.shape)) {
    throw new AttributionError('INVALID_INPUT', `${what} must be a HostTensor { data: Float32Array, shape: number[] }`);
  }
  const { data, shape } = x;
  if (shape.length < 2 || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new AttributionError(
      'INVALID_SHAPE',
      `${what} shape ${formatShape(shape)} must be a batch [B, ...] of rank ≥ 2 with every dimension ≥ 1`,
    );
  }
  if (sizeOf(shape) !== data.length) {
    throw new AttributionError(
      'INVALID_INPUT',
      `${what} shape ${formatShape(shape)} holds ${sizeOf(shape)} elements but its data has ${data.length}`,
    );
  }
  const { count, shown } = countNonFinite(data, shape);
  if (count > 0) {
    throw new AttributionError(
      'NON_FINITE_INPUT',
      `${what} holds ${count} non-finite value${count === 1 ? '' : 's'} (NaN or ±Infinity): ${shown}`,
    );
  }
}

/** How many values are NaN or ±∞, and the first few of them with their positions in `shape`. */
export function countNonFinite(data: ArrayLike<number>, shape: readonly number[]): { count: number; shown: string } {
  let count = 0;
  const shown: string[] = [];
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      count++;
      if (shown.length < SHOWN_POSITIONS) shown.push(`${String(v)} at ${formatShape(unravelIndex(i, shape))}`);
    }
  }
  return { count, shown: `${shown.join(', ')}${count > shown.length ? ', …' : ''}` };
}
