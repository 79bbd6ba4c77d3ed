import { describe, expect, it } from 'vitest';
import { DataType } from '../src/model/data-type.js';
import { checkGradient } from './helpers/check-gradient.js';
import { runGradient } from './helpers/run-gradient.js';

const pads = (values: number[]) => ({ shape: [values.length], values, dataType: DataType.INT64, constant: true });

describe.each(['reflect', 'edge'])('Pad mode %s', (mode) => {
  it.each([
    [[5], [2, 3]],
    [
      [1, 2, 4, 4],
      [0, 0, 1, 2, 0, 0, 2, 1],
    ],
    [
      [2, 3, 4],
      [0, 2, 3, 0, 1, 3],
    ],
    [
      [2, 5],
      [0, -1, 0, 2],
    ],
  ])('%j pads %j', (shape, p) =>
    checkGradient({ opType: 'Pad', opset: 13, attributes: { mode: { string: mode } }, inputs: [{ shape }, pads(p)] }),
  );
  it('opset 2: pads as an attribute', () =>
    checkGradient({
      opType: 'Pad',
      opset: 9,
      attributes: { mode: { string: mode }, pads: { ints: [0, 1, 0, 2] } },
      inputs: [{ shape: [2, 3] }],
    }));
});

describe('Pad mode wrap (opset 19)', () => {
  it('[2, 3] pads [1, 2, 0, 3]', () =>
    checkGradient({ opType: 'Pad', opset: 19, attributes: { mode: { string: 'wrap' } }, inputs: [{ shape: [2, 3] }, pads([1, 2, 0, 3])] }));
});

describe('Pad reflect, by hand', () => {
  it('x̄ sums the cotangents of every copy', async () => {
    // [a b c] reflect-padded by 2 and 1: [c b a b c b]; ȳ = [1, 10, 100, 1000, 10⁴, 10⁵].
    const gradient = await runGradient(
      { opType: 'Pad', opset: 13, attributes: { mode: { string: 'reflect' } }, inputs: [{ shape: [3] }, pads([2, 1])] },
      0,
      [1, 10, 100, 1000, 1e4, 1e5],
    );
    expect(Array.from(gradient)).toEqual([100, 10 + 1000 + 1e5, 1 + 1e4]);
  });
});
