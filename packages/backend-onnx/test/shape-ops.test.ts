import { describe, expect, it } from 'vitest';
import { DataType } from '../src/model/data-type.js';
import { checkGradient } from './helpers/check-gradient.js';

const int64 = (values: number[]) => ({ shape: [values.length], values, dataType: DataType.INT64, constant: true });

describe('Reshape', () => {
  it.each([
    [
      [2, 3, 4],
      [4, 6],
    ],
    [
      [2, 3, 4],
      [-1, 3],
    ],
    [
      [2, 3, 4],
      [0, 12],
    ],
    [[6], [1, 2, 3, 1]],
  ])('%j to %j', (shape, target) => checkGradient({ opType: 'Reshape', inputs: [{ shape }, int64(target)] }));
});

describe('Flatten', () => {
  it.each([
    [[2, 3, 4], 1],
    [[2, 3, 4], 2],
    [[2, 3, 4], 0],
    [[2, 3, 4], -1],
  ])('%j at axis %i', (shape, axis) => checkGradient({ opType: 'Flatten', attributes: { axis: { int: axis } }, inputs: [{ shape }] }));
});

describe('Identity', () => {
  it('passes the cotangent through', () => checkGradient({ opType: 'Identity', inputs: [{ shape: [3, 5] }] }));
});

describe('Squeeze', () => {
  it.each([
    [
      [1, 3, 1, 2],
      [0, 2],
    ],
    [[2, 1, 3], [-2]],
    [[1, 4, 1], undefined],
  ])('%j at opset 11 with axes attribute %j', (shape, axes) =>
    checkGradient({ opType: 'Squeeze', opset: 11, attributes: axes === undefined ? {} : { axes: { ints: axes } }, inputs: [{ shape }] }),
  );
  it.each([
    [
      [1, 3, 1, 2],
      [0, 2],
    ],
    [[2, 1, 3], [-2]],
  ])('%j at opset 13 with axes input %j', (shape, axes) =>
    checkGradient({ opType: 'Squeeze', opset: 13, inputs: [{ shape }, int64(axes)] }),
  );
  it('squeezes every axis of size 1 without axes at opset 13', () =>
    checkGradient({ opType: 'Squeeze', opset: 13, inputs: [{ shape: [1, 3, 1] }] }));
  it('refuses to squeeze an axis larger than 1', () =>
    expect(checkGradient({ opType: 'Squeeze', opset: 13, inputs: [{ shape: [2, 3] }, int64([1])] })).rejects.toThrow(
      /cannot squeeze axis 1 of size 3/,
    ));
});

describe('Unsqueeze', () => {
  it.each([
    [[3, 2], [0]],
    [
      [3, 2],
      [1, -1],
    ],
    [[4], [0, 2]],
  ])('%j at opset 11 with axes attribute %j', (shape, axes) =>
    checkGradient({ opType: 'Unsqueeze', opset: 11, attributes: { axes: { ints: axes } }, inputs: [{ shape }] }),
  );
  it.each([
    [[3, 2], [0]],
    [
      [3, 2],
      [-1, 1],
    ],
  ])('%j at opset 13 with axes input %j', (shape, axes) =>
    checkGradient({ opType: 'Unsqueeze', opset: 13, inputs: [{ shape }, int64(axes)] }),
  );
});

describe('Transpose', () => {
  it.each([
    [[2, 3], undefined],
    [[2, 3, 4], undefined],
    [
      [2, 3, 4],
      [1, 2, 0],
    ],
    [
      [2, 1, 3, 2],
      [0, 2, 3, 1],
    ],
  ])('%j with perm %j', (shape, perm) =>
    checkGradient({ opType: 'Transpose', attributes: perm === undefined ? {} : { perm: { ints: perm } }, inputs: [{ shape }] }),
  );
  it('refuses a perm that is not a permutation', () =>
    expect(checkGradient({ opType: 'Transpose', attributes: { perm: { ints: [0, 0] } }, inputs: [{ shape: [2, 2] }] })).rejects.toThrow(
      /not a permutation/,
    ));
});

describe('Expand', () => {
  it.each([
    [
      [3, 1],
      [2, 3, 4],
    ],
    [
      [1, 4],
      [3, 1],
    ],
    [
      [2, 3],
      [2, 3],
    ],
    [[3], [2, 1, 3]],
  ])('%j to %j', (shape, target) => checkGradient({ opType: 'Expand', inputs: [{ shape }, int64(target)] }));
});

describe('Tile', () => {
  it.each([
    [
      [2, 3],
      [2, 1],
    ],
    [
      [2, 3],
      [1, 3],
    ],
    [
      [2, 1, 3],
      [2, 3, 2],
    ],
    [[3], [1]],
  ])('%j repeated %j', (shape, repeats) => checkGradient({ opType: 'Tile', inputs: [{ shape }, int64(repeats)] }));
});

describe('DepthToSpace and SpaceToDepth', () => {
  it.each(['DCR', 'CRD'])('DepthToSpace in mode %s', (mode) =>
    checkGradient({
      opType: 'DepthToSpace',
      attributes: { blocksize: { int: 2 }, mode: { string: mode } },
      inputs: [{ shape: [1, 8, 2, 3] }],
    }),
  );
  it('SpaceToDepth', () =>
    checkGradient({ opType: 'SpaceToDepth', attributes: { blocksize: { int: 2 } }, inputs: [{ shape: [1, 2, 4, 6] }] }));
  it('refuses an unknown mode', () =>
    expect(
      checkGradient({
        opType: 'DepthToSpace',
        attributes: { blocksize: { int: 2 }, mode: { string: 'XYZ' } },
        inputs: [{ shape: [1, 4, 2, 2] }],
      }),
    ).rejects.toThrow(/mode "XYZ" is not supported/));
});
