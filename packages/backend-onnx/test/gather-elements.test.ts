import { describe, expect, it } from 'vitest';
import { DataType } from '../src/model/data-type.js';
import { checkGradient, expectClose } from './helpers/check-gradient.js';
import { runGradient } from './helpers/run-gradient.js';

const indices = (shape: number[], values: number[]) => ({ shape, values, dataType: DataType.INT64, constant: true });

describe('GatherElements', () => {
  it.each([
    [[3, 4], 0, [2, 4], [0, 2, 1, 2, 2, 0, 0, 1]],
    [[3, 4], 1, [3, 2], [3, 0, 1, 1, -1, -4]],
    [[2, 3, 2], -2, [2, 2, 2], [0, 2, 1, 1, 2, 2, 0, 0]],
    [[3, 4], 1, [2, 3], [0, 0, 0, 3, 3, 3]],
  ])('data %j along axis %i at indices %j %j', (shape, axis, indexShape, index) =>
    checkGradient({
      opType: 'GatherElements',
      opset: 13,
      attributes: { axis: { int: axis } },
      inputs: [{ shape }, indices(indexShape, index)],
    }),
  );
  it('sums the cotangents of repeated indices', async () => {
    const gradient = await runGradient(
      { opType: 'GatherElements', opset: 13, attributes: { axis: { int: 1 } }, inputs: [{ shape: [1, 3] }, indices([1, 4], [2, 2, 0, 2])] },
      0,
      [1, 10, 100, 1000],
    );
    expectClose(gradient, [100, 0, 1011], 0, 'x̄');
  });
  it('int32 indices computed in the graph (not constants)', async () => {
    const gradient = await runGradient(
      {
        opType: 'GatherElements',
        opset: 13,
        attributes: { axis: { int: 0 } },
        inputs: [{ shape: [3] }, { shape: [2], values: [-1, 0], dataType: DataType.INT32 }],
      },
      0,
      [2, 5],
    );
    expect(Array.from(gradient)).toEqual([5, 0, 2]);
  });
});
