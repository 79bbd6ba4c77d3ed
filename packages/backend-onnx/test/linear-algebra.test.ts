import { describe, expect, it } from 'vitest';
import { constTensor } from '../src/model/const-tensor.js';
import { DataType } from '../src/model/data-type.js';
import { checkGradient, evaluateOp } from './helpers/check-gradient.js';

describe('MatMul', () => {
  it.each([
    [
      [3, 4],
      [4, 5],
    ],
    [[4], [4, 5]],
    [[3, 4], [4]],
    [[4], [4]],
    [
      [2, 3, 4],
      [4, 5],
    ],
    [
      [3, 4],
      [2, 4, 5],
    ],
    [
      [2, 1, 3, 4],
      [3, 4, 2],
    ],
    [[2, 3, 4], [4]],
    [[5], [2, 5, 3]],
    [
      [1, 4],
      [4, 1],
    ],
  ])('%j · %j', (a, b) => checkGradient({ opType: 'MatMul', inputs: [{ shape: a }, { shape: b }] }));

  it('with a constant weight, at opset 9', () =>
    checkGradient({ opType: 'MatMul', opset: 9, inputs: [{ shape: [2, 3] }, { shape: [3, 4], constant: true }] }));

  it('folds integer products', () => {
    const [y] = evaluateOp({ opType: 'MatMul', inputs: [] }, [
      constTensor(DataType.INT64, [2], [2, 3]),
      constTensor(DataType.INT64, [2, 2], [1, 2, 3, 4]),
    ]);
    expect(y!.dataType).toBe(DataType.INT64);
    expect(y!.dims).toEqual([2]);
    expect(Array.from(y!.values)).toEqual([11, 16]);
  });

  it('refuses operands that do not multiply', () =>
    expect(checkGradient({ opType: 'MatMul', inputs: [{ shape: [2, 3] }, { shape: [4, 2] }] })).rejects.toThrow(/cannot multiply/));
});

describe('Gemm', () => {
  const flags = (transA: number, transB: number, alpha = 1, beta = 1) => ({
    transA: { int: transA },
    transB: { int: transB },
    alpha: { float: alpha },
    beta: { float: beta },
  });
  it.each([
    [0, 0, [3, 4], [4, 5], [5]],
    [1, 0, [4, 3], [4, 5], [3, 5]],
    [0, 1, [3, 4], [5, 4], [3, 1]],
    [1, 1, [4, 3], [5, 4], []],
    [0, 1, [1, 4], [5, 4], [1, 5]],
  ])('transA %i transB %i: A %j, B %j, C %j', (transA, transB, a, b, c) =>
    checkGradient({ opType: 'Gemm', attributes: flags(transA, transB, 0.5, -1.5), inputs: [{ shape: a }, { shape: b }, { shape: c }] }),
  );

  it.each([
    [0, 0, [3, 4], [4, 2]],
    [1, 1, [4, 3], [2, 4]],
  ])('without C at opset 13 (transA %i transB %i)', (transA, transB, a, b) =>
    checkGradient({ opType: 'Gemm', opset: 13, attributes: flags(transA, transB, 2), inputs: [{ shape: a }, { shape: b }] }),
  );

  it('with constant weights at opset 7 (C required)', () =>
    checkGradient({
      opType: 'Gemm',
      opset: 7,
      attributes: flags(0, 1),
      inputs: [{ shape: [2, 4] }, { shape: [3, 4], constant: true }, { shape: [3], constant: true }],
    }));

  it('without C before opset 11 fails clearly', () =>
    expect(checkGradient({ opType: 'Gemm', opset: 9, inputs: [{ shape: [2, 2] }, { shape: [2, 2] }] })).rejects.toThrow(
      /C is required before opset 11/,
    ));
});
