import { describe, expect, it } from 'vitest';
import { checkGradient, uniformValues, type Operand } from './helpers/check-gradient.js';

const positive = (shape: number[], seed: number, constant = true): Operand => ({
  shape,
  values: uniformValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
    0.5,
    1.5,
  ),
  constant,
});
const param = (shape: number[], seed: number, constant = true): Operand => ({
  shape,
  values: uniformValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
  ),
  constant,
});

describe('BatchNormalization', () => {
  it.each([
    [[2, 3, 4, 2], 15],
    [[2, 3, 5], 9],
    [[4, 3], 14],
    [[1, 2, 2, 2], 7],
  ])('%j with constant parameters at opset %i (one folded Mul)', (shape, opset) => {
    const c = [shape[1]!];
    return checkGradient({
      opType: 'BatchNormalization',
      opset,
      attributes: { epsilon: { float: 1e-3 } },
      inputs: [{ shape }, param(c, 2), param(c, 3), param(c, 4), positive(c, 5)],
    });
  });

  it('differentiates every parameter', () => {
    const c = [3];
    return checkGradient({
      opType: 'BatchNormalization',
      inputs: [{ shape: [2, 3, 2] }, param(c, 2, false), param(c, 3, false), param(c, 4, false), positive(c, 5, false)],
    });
  });

  it('per activation (spatial = 0) at opset 7', () =>
    checkGradient({
      opType: 'BatchNormalization',
      opset: 7,
      attributes: { spatial: { int: 0 } },
      inputs: [{ shape: [2, 3, 2] }, param([3, 2], 2), param([3, 2], 3), param([3, 2], 4), positive([3, 2], 5)],
    }));

  it('training_mode = 1 fails clearly', () => {
    const c = [3];
    return expect(
      checkGradient({
        opType: 'BatchNormalization',
        opset: 15,
        attributes: { training_mode: { int: 1 } },
        inputs: [{ shape: [2, 3] }, param(c, 2), param(c, 3), param(c, 4), positive(c, 5)],
      }),
    ).rejects.toThrow(/training_mode=1 is not supported/);
  });
});

describe('LayerNormalization', () => {
  it.each([
    [[2, 3, 4], -1],
    [[2, 3, 4], 1],
    [[2, 3, 4], -2],
    [[3, 5], 0],
  ])('%j at axis %i', (shape, axis) => {
    const normalized = shape.slice(axis < 0 ? axis + shape.length : axis);
    return checkGradient({
      opType: 'LayerNormalization',
      attributes: { axis: { int: axis }, epsilon: { float: 1e-3 } },
      inputs: [{ shape }, param(normalized, 2), param(normalized, 3)],
    });
  });

  it('differentiates the scale and bias, and broadcasts them', () =>
    checkGradient({
      opType: 'LayerNormalization',
      opset: 18,
      attributes: { axis: { int: 1 } },
      inputs: [{ shape: [2, 3, 4] }, param([4], 2, false), param([3, 1], 3, false)],
    }));

  it('without bias', () => checkGradient({ opType: 'LayerNormalization', inputs: [{ shape: [2, 6] }, param([6], 2)] }));

  it('before opset 17 fails clearly', () =>
    expect(checkGradient({ opType: 'LayerNormalization', opset: 16, inputs: [{ shape: [2, 6] }, param([6], 2)] })).rejects.toThrow(
      /from opset 17/,
    ));
});

describe('InstanceNormalization', () => {
  it.each([[[2, 3, 4]], [[1, 2, 3, 3]]])('%j', (shape) =>
    checkGradient({ opType: 'InstanceNormalization', inputs: [{ shape }, param([shape[1]!], 2), param([shape[1]!], 3)] }),
  );
  it('differentiates the scale and bias', () =>
    checkGradient({
      opType: 'InstanceNormalization',
      opset: 11,
      attributes: { epsilon: { float: 1e-2 } },
      inputs: [{ shape: [2, 2, 3] }, param([2], 2, false), param([2], 3, false)],
    }));
});

describe.each(['Softmax', 'LogSoftmax'])('%s', (opType) => {
  it.each([
    [[2, 5], undefined, 11],
    [[2, 3, 4], undefined, 11],
    [[2, 3, 4], 2, 11],
    [[2, 3, 4], -2, 11],
    [[2, 3, 4], 0, 12],
    [[2, 3, 4], undefined, 13],
    [[2, 3, 4], 1, 13],
    [[2, 3, 4], -3, 18],
    [[6], 0, 13],
  ])('%j at axis %s, opset %i', (shape, axis, opset) =>
    checkGradient({ opType, opset, attributes: axis === undefined ? {} : { axis: { int: axis } }, inputs: [{ shape }] }),
  );
});
