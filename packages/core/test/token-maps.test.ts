import { describe, expect, it } from 'vitest';
import { AttributionError, hostTensor, perTokenMaps } from '../src/index.js';

describe('perTokenMaps (docs/methods.md, "Attribution at a tensor")', () => {
  // Two examples, two tokens, embedding width 3.
  const map = hostTensor([1, -2, 2, 3, 4, 0, -1, -1, -1, 0, 0, 0], [2, 2, 3]);

  it('sums the embedding axis, keeping the sign', () => {
    const sums = perTokenMaps(map, 'sum');
    expect(sums.shape).toEqual([2, 2]);
    expect(Array.from(sums.data)).toEqual([1, 7, -3, 0]);
  });

  it('takes the L2 norm over the embedding axis', () => {
    const norms = perTokenMaps(map, 'l2');
    expect(norms.shape).toEqual([2, 2]);
    // √(1+4+4) = 3, √(9+16) = 5, √3, 0.
    expect(Array.from(norms.data)).toEqual([3, 5, Math.fround(Math.sqrt(3)), 0]);
  });

  it('refuses a map without an embedding axis and an unknown reduction', () => {
    expect(() => perTokenMaps(hostTensor([1, 2], [2]), 'sum')).toThrow(AttributionError);
    expect(() => perTokenMaps(map, 'max' as never)).toThrow(/reduction must be 'sum' or 'l2'/);
  });
});
