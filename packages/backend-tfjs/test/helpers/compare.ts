import { expect } from 'vitest';

/** Largest |actual − expected|. */
export function maxAbsError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst;
}

export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

/**
 * float32 against a float64 reference: max abs error ≤ `relative` × max|expected|.
 * Also asserts the reference is not all zeros, so that the check can fail.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, relative = 1e-4, label = ''): void {
  const scale = maxAbs(expected);
  expect(scale, `${label}: reference is all zeros`).toBeGreaterThan(0);
  const error = maxAbsError(actual, expected);
  expect(error, `${label}: max abs error ${error} vs max |ref| ${scale}`).toBeLessThanOrEqual(relative * scale);
}
