import { describe, expect, it } from 'vitest';
import { DataType } from '../src/model/data-type.js';
import { checkGradient } from './helpers/check-gradient.js';
import { runGradient } from './helpers/run-gradient.js';

const k = (value: number) => ({ shape: [1], values: [value], dataType: DataType.INT64, constant: true });

describe('TopK values', () => {
  it.each([
    [[6], -1, 3, 1],
    [[6], 0, 2, 0],
    [[3, 5], 1, 5, 1],
    [[4, 3, 2], 0, 2, 1],
    [[4, 3, 2], -2, 1, 0],
  ])('%j along axis %i, k %i, largest %i', (shape, axis, kValue, largest) =>
    checkGradient({
      opType: 'TopK',
      opset: 11,
      outputs: 2,
      attributes: { axis: { int: axis }, largest: { int: largest } },
      inputs: [{ shape }, k(kValue)],
    }),
  );
  it('opset 1 to 9: k as an attribute', () =>
    checkGradient({ opType: 'TopK', opset: 9, outputs: 2, attributes: { k: { int: 2 } }, inputs: [{ shape: [2, 4] }] }));
  it('a tie goes to the lower index, which ONNX Runtime selects', async () => {
    const gradient = await runGradient(
      { opType: 'TopK', opset: 11, outputs: 2, inputs: [{ shape: [5], values: [1, 3, 2, 3, 0] }, k(2)] },
      0,
      [10, 1],
    );
    expect(Array.from(gradient)).toEqual([0, 10, 0, 1, 0]);
  });
});
