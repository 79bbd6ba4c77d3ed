import { AttributionError } from '@saliency/core';
import { expect } from 'vitest';

/** The AttributionError `run` throws synchronously; fails the test if it throws nothing or another error. */
export function thrown(run: () => unknown): AttributionError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AttributionError);
    return error as AttributionError;
  }
  throw new Error('no error');
}
