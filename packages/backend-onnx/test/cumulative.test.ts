import { describe, expect, it } from 'vitest';
import { DataType } from '../src/model/data-type.js';
import { checkGradient, evaluateOp } from './helpers/check-gradient.js';
import { runForward } from './helpers/run-gradient.js';

const axis = (value: number, dataType = DataType.INT64) => ({ shape: [], values: [value], dataType, constant: true });

describe('CumSum', () => {
  it.each([
    [[5], 0, 0, 0],
    [[5], 0, 1, 0],
    [[5], 0, 0, 1],
    [[5], 0, 1, 1],
    [[2, 4, 3], 1, 0, 0],
    [[2, 4, 3], -1, 1, 1],
    [[2, 4, 3], 0, 0, 1],
  ])('%j along axis %i, exclusive %i, reverse %i', (shape, a, exclusive, reverse) =>
    checkGradient({
      opType: 'CumSum',
      opset: 14,
      attributes: { exclusive: { int: exclusive }, reverse: { int: reverse } },
      inputs: [{ shape }, axis(a)],
    }),
  );
  it('an int32 axis', () => checkGradient({ opType: 'CumSum', opset: 11, inputs: [{ shape: [3, 2] }, axis(0, DataType.INT32)] }));
  it('integer position ids (no gradient) evaluate as ONNX Runtime computes them', async () => {
    const c = {
      opType: 'CumSum',
      opset: 14,
      inputs: [{ shape: [2, 4], values: [1, 1, 1, 0, 1, 1, 0, 0], dataType: DataType.INT64, constant: true }, axis(1)],
    };
    const [actual] = await runForward(c);
    expect(
      Array.from(
        evaluateOp(
          c,
          c.inputs.map((o) => ({ dataType: o.dataType, dims: o.shape, values: Float64Array.from(o.values) })),
        )[0]!.values,
      ),
    ).toEqual(actual);
    expect(actual).toEqual([1, 2, 3, 3, 1, 2, 2, 2]);
  });
});
