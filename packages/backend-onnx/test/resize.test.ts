import { describe, it } from 'vitest';
import { DataType } from '../src/model/data-type.js';
import { checkGradient, type Operand } from './helpers/check-gradient.js';

const floats = (values: number[]): Operand => ({ shape: [values.length], values, constant: true });
const int64 = (values: number[]): Operand => ({ shape: [values.length], values, dataType: DataType.INT64, constant: true });
const noRoi = floats([]);

const COORDINATES = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'];

describe.each(['nearest', 'linear', 'cubic'])('Resize mode %s', (mode) => {
  describe.each(COORDINATES)('coordinate_transformation_mode %s', (coordinates) => {
    const attributes = { mode: { string: mode }, coordinate_transformation_mode: { string: coordinates } };
    it.each([
      [
        [1, 2, 3, 4],
        [1, 1, 2, 2],
      ],
      [
        [1, 1, 4, 5],
        [1, 1, 0.5, 0.6],
      ],
      [
        [1, 1, 3, 4],
        [1, 1, 1.5, 0.75],
      ],
    ])('%j by scales %j', (shape, scales) =>
      checkGradient({ opType: 'Resize', opset: 13, attributes, inputs: [{ shape }, noRoi, floats(scales)] }),
    );
    it('[1, 1, 3, 2] to sizes [1, 1, 5, 1]', () =>
      checkGradient({ opType: 'Resize', opset: 13, attributes, inputs: [{ shape: [1, 1, 3, 2] }, null, null, int64([1, 1, 5, 1])] }));
  });
});

describe('Resize options', () => {
  it.each(['round_prefer_ceil', 'floor', 'ceil'])('nearest_mode %s', (nearest) =>
    checkGradient({
      opType: 'Resize',
      opset: 13,
      attributes: {
        mode: { string: 'nearest' },
        nearest_mode: { string: nearest },
        coordinate_transformation_mode: { string: 'half_pixel' },
      },
      inputs: [{ shape: [1, 1, 3, 5] }, noRoi, floats([1, 1, 1.7, 0.6])],
    }),
  );
  it('cubic with exclude_outside and another a', () =>
    checkGradient({
      opType: 'Resize',
      opset: 13,
      attributes: { mode: { string: 'cubic' }, exclude_outside: { int: 1 }, cubic_coeff_a: { float: -0.5 } },
      inputs: [{ shape: [1, 1, 4, 4] }, noRoi, floats([1, 1, 1.5, 0.75])],
    }));
  it('opset 11 with roi given and sizes', () =>
    checkGradient({
      opType: 'Resize',
      opset: 11,
      attributes: { mode: { string: 'linear' } },
      inputs: [{ shape: [1, 2, 3, 3] }, floats([]), floats([]), int64([1, 2, 6, 4])],
    }));
  it('opset 10: scales as the second input, asymmetric', () =>
    checkGradient({
      opType: 'Resize',
      opset: 10,
      attributes: { mode: { string: 'nearest' } },
      inputs: [{ shape: [1, 1, 2, 3] }, floats([1, 1, 2, 3])],
    }));
  it('opset 10 linear, downsampling', () =>
    checkGradient({
      opType: 'Resize',
      opset: 10,
      attributes: { mode: { string: 'linear' } },
      inputs: [{ shape: [1, 1, 4, 4] }, floats([1, 1, 0.5, 0.75])],
    }));
  it('opset 18: axes and keep_aspect_ratio_policy not_larger', () =>
    checkGradient({
      opType: 'Resize',
      opset: 18,
      attributes: { mode: { string: 'linear' }, axes: { ints: [2, 3] }, keep_aspect_ratio_policy: { string: 'not_larger' } },
      inputs: [{ shape: [1, 1, 3, 4] }, null, null, int64([6, 6])],
    }));
});

describe('Upsample', () => {
  it.each(['nearest', 'linear'])('opset 9, mode %s, scales as an input', (mode) =>
    checkGradient({
      opType: 'Upsample',
      opset: 9,
      attributes: { mode: { string: mode } },
      inputs: [{ shape: [1, 2, 2, 3] }, floats([1, 1, 2, 2])],
    }),
  );
  it('opset 7, scales as an attribute', () =>
    checkGradient({
      opType: 'Upsample',
      opset: 7,
      attributes: { mode: { string: 'nearest' }, scales: { floats: [1, 1, 3, 2] } },
      inputs: [{ shape: [1, 1, 2, 2] }],
    }));
});
