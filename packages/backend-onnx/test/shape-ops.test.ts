import { describe, it } from 'vitest';
import { DataType } from '../src/model/data-type.js';
import { checkGradient } from './helpers/check-gradient.js';

const int64 = (values: number[]) => ({ shape: [values.length], values, dataType: DataType.INT64, constant: true });

describe('Reshape', () => {
  it.each([
    [[2, 3, 4], [4, 6]],
    [[2, 3, 4], [-1, 3]],
    [[2, 3, 4], [0, 12]],
    [[6], [1, 2, 3, 1]],
  ])('%j to %j', (shape, target) => checkGradient({ opType: 'Reshape', inputs: [{ shape }, int64(target)] }));
});

describe('Flatten', () => {
  it.each([[[2, 3, 4], 1], [[2, 3, 4], 2], [[2, 3, 4], 0], [[2, 3, 4], -1]])('%j at axis %i', (shape, axis) =>
    checkGradient({ opType: 'Flatten', attributes: { axis: { int: axis } }, inputs: [{ shape }] }),
  );
});

describe('Identity', () => {
  it('passes the cotangent through', () => checkGradient({ opType: 'Identity', inputs: [{ shape: [3, 5] }] }));
});
