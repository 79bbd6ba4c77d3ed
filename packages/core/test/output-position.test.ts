import { describe, expect, it } from 'vitest';
import { AttributionError, checkOutputPosition, describeOutputPosition, outputPositionHint, type OutputPosition } from '../src/index.js';

/** The check's refusal of `position` for an output [B, ...shape] (or of its form alone, without a shape). */
function refusal(position: unknown, shape?: readonly (number | null)[]): AttributionError {
  try {
    checkOutputPosition(position, 'makeBackend', shape);
  } catch (error) {
    expect(error).toBeInstanceOf(AttributionError);
    expect((error as AttributionError).code).toBe('INVALID_OPTION');
    expect((error as AttributionError).message).toMatch(
      /^makeBackend: option outputPosition .*; it takes one entry per output axis after the batch axis: an index \(integer ≥ 0\), a range \[start, end\) of integers with 0 ≤ start < end, or null for the class axis \(exactly one\)$/,
    );
    return error as AttributionError;
  }
  throw new Error(`expected ${JSON.stringify(position)} to be refused`);
}

describe('checkOutputPosition (docs/methods.md, "Output position")', () => {
  it.each([
    ['not an array', 3, /must be a non-empty array, got 3/],
    ['an empty array', [], /must be a non-empty array/],
    ['no null', [3, 2], /must hold exactly one null \(the class axis\), got 0 in \[3,2\]/],
    ['two nulls', [null, null], /exactly one null \(the class axis\), got 2/],
    ['a negative index', [-1, null], /has -1 at axis 1(?: of size 12)?, not an integer ≥ 0/],
    ['a fraction', [1.5, null], /has 1\.5 at axis 1(?: of size 12)?, not an integer ≥ 0/],
    ['an empty range', [[4, 4], null], /has \[4,4\] at axis 1(?: of size 12)?, neither an index nor a range \[start, end\)/],
    ['a reversed range', [[5, 2], null], /has \[5,2\] at axis 1(?: of size 12)?, neither/],
    ['a range of three', [[1, 2, 3], null], /has \[1,2,3\] at axis 1(?: of size 12)?, neither/],
    ['a string', ['3', null], /has "3" at axis 1(?: of size 12)?, neither an index nor a range/],
  ])('refuses its form, whatever the output: %s', (_, position, message) => {
    expect(refusal(position).message).toMatch(message);
    expect(refusal(position, [12, 4]).message).toMatch(message);
  });

  it.each([
    ['too few entries', [null], /has 1 entry for an output of 2 axes after the batch axis \(shape \[B, 12, 4\]\)/],
    ['too many entries', [1, 2, null], /has 3 entries for an output of 2 axes/],
    ['an index past the axis', [12, null], /has index 12 at axis 1 of size 12: allowed are 0 … 11/],
    ['a range past the axis', [[10, 13], null], /has range \[10, 13\) at axis 1 of size 12: allowed are ranges inside \[0, 12\)/],
    ['a negative index, with the size', [-1, null], /has -1 at axis 1 of size 12, not an integer ≥ 0/],
  ])('refuses what does not fit an output [B, 12, 4]: %s', (_, position, message) => {
    expect(refusal(position, [12, 4]).message).toMatch(message);
  });

  it('takes what fits, and a size not known (null) as any: a copy the caller’s later changes do not reach', () => {
    const range: [number, number] = [2, 7];
    const position = [range, null];
    const checked = checkOutputPosition(position, 'makeBackend', [12, 4]);
    expect(checked).toEqual([[2, 7], null]);
    range[1] = 99;
    position[1] = 0 as never;
    expect(checked).toEqual([[2, 7], null]);
    expect(checkOutputPosition([null, 40, [3, 9]], 'makeBackend', [2, null, null])).toEqual([null, 40, [3, 9]]);
    expect(refusal([null, 40, [3, 9]], [2, 40, null]).message).toMatch(/has index 40 at axis 2 of size 40: allowed are 0 … 39/);
  });

  it('describes a position as the CLI writes it, and hints at the option for an output [2, 8, 5] or [1, 2, 6, 6]', () => {
    const position: OutputPosition = [null, [0, 4], 7];
    expect(describeOutputPosition(position)).toBe('[:, 0:4, 7]');
    expect(outputPositionHint([2, 8, 5])).toBe(
      '; to explain one position of a sequence or dense output, pass the option outputPosition, e.g. [0, :] as [0,null] (docs/methods.md, "Output position")',
    );
    expect(outputPositionHint([1, 2, 6, 6])).toMatch(/e\.g\. \[0, 0, :\] as \[0,0,null\]/);
  });
});
