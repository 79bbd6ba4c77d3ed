import { describe, expect, it } from 'vitest';
import { constTensor } from '../src/model/const-tensor.js';
import { DataType } from '../src/model/data-type.js';
import { erf } from '../src/ops/activations.js';
import { checkGradient, evaluateOp, uniformValues, type GradientCase, type Operand } from './helpers/check-gradient.js';
import { runForward, runGradient } from './helpers/run-gradient.js';

const size = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);
const within = (shape: number[], lo: number, hi: number, seed = 5): Operand => ({
  shape,
  values: uniformValues(size(shape), seed, lo, hi),
});
const scalarOperand = (value: number, constant = true): Operand => ({
  shape: [],
  values: [value],
  ...(constant ? { constant: true } : {}),
});
/** −0 and 0 compare unequal in toEqual; the ops' semantics do not distinguish them. */
const plain = (values: ArrayLike<number>) => Array.from(values, (v) => v + 0);
/** The gradient at hand-picked points, for a cotangent of ones. */
const at = (c: Omit<GradientCase, 'inputs'>, x: number[], others: Operand[] = []) =>
  runGradient({ ...c, inputs: [{ shape: [x.length], values: x }, ...others] }, 0);

const SHAPES = [[1], [2, 3], [2, 3, 2]];

describe.each([
  ['Relu', {}, 7],
  ['Relu', {}, 14],
  ['LeakyRelu', {}, 16],
  ['LeakyRelu', { alpha: { float: 0.2 } }, 16],
  ['Sigmoid', {}, 13],
  ['Tanh', {}, 13],
  ['Erf', {}, 13],
  ['Softplus', {}, 13],
  ['Softsign', {}, 13],
  ['Elu', {}, 13],
  ['Elu', { alpha: { float: 0.5 } }, 13],
  ['Selu', {}, 13],
  ['Selu', { alpha: { float: 1.5 }, gamma: { float: 2 } }, 13],
  ['HardSigmoid', {}, 13],
  ['HardSigmoid', { alpha: { float: 0.5 }, beta: { float: 0.3 } }, 13],
  ['HardSwish', {}, 14],
])('%s %j at opset %i', (opType, attributes, opset) => {
  it.each(SHAPES)('%j', (...shape) => checkGradient({ opType, attributes, opset, inputs: [within(shape, -4, 4)] }));
});

describe('kinks, by hand (central differences would average the two sides)', () => {
  it("ReLU'(0) = 0", async () => expect(plain(await at({ opType: 'Relu' }, [-1, 0, 2]))).toEqual([0, 0, 1]));
  it("LeakyReLU'(0) = α", async () => {
    const gradient = await at({ opType: 'LeakyRelu', attributes: { alpha: { float: 0.25 } } }, [-1, 0, 2]);
    expect(plain(gradient)).toEqual([0.25, 0.25, 1]);
  });
  it("PReLU'(0) = the slope", async () =>
    expect(plain(await at({ opType: 'PRelu' }, [-1, 0, 2], [scalarOperand(0.25)]))).toEqual([0.25, 0.25, 1]));
  it("ELU'(0) = α", async () => {
    const gradient = await at({ opType: 'Elu', attributes: { alpha: { float: 0.5 } } }, [0, 1]);
    expect(plain(gradient)).toEqual([0.5, 1]);
  });
  it('HardSigmoid passes nothing at the ends of its ramp', async () => {
    // αx + β = 0 at x = −2 and 1 at x = 2 (exact in float32).
    expect(
      plain(await at({ opType: 'HardSigmoid', attributes: { alpha: { float: 0.25 }, beta: { float: 0.5 } } }, [-2, -1, 0, 2, 3])),
    ).toEqual([0, 0.25, 0.25, 0, 0]);
  });
  it('HardSwish: 0 at −3 and below, 1 at 3 and above, ½ at 0', async () => {
    expect(plain(await at({ opType: 'HardSwish', opset: 14 }, [-4, -3, 0, 3, 4]))).toEqual([0, 0, 0.5, 1, 1]);
  });
  it.each([
    ['inputs (opset 13)', 13, {}, [scalarOperand(0), scalarOperand(6)]],
    ['attributes (opset 9)', 9, { min: { float: 0 }, max: { float: 6 } }, []],
  ] as const)('Clip with bounds as %s passes nothing exactly at the bounds', async (_, opset, attributes, bounds) => {
    const gradient = await at({ opType: 'Clip', opset, attributes }, [-1, 0, 3, 6, 7], [...bounds]);
    expect(plain(gradient)).toEqual([0, 0, 1, 0, 0]);
  });
});

describe('PRelu', () => {
  it.each([
    [[2, 3], [1]],
    [[2, 3], [3]],
    [
      [2, 3, 2, 2],
      [3, 1, 1],
    ],
    [
      [2, 3],
      [2, 3],
    ],
  ])('x %j, slope %j (both differentiated)', (x, slope) =>
    checkGradient({ opType: 'PRelu', inputs: [{ shape: x }, within(slope, 0.05, 0.5)] }),
  );
  it('at opset 7 with a constant slope', () =>
    checkGradient({ opType: 'PRelu', opset: 7, inputs: [{ shape: [2, 3] }, { ...within([3], 0.05, 0.5), constant: true }] }));
  it('refuses a slope that does not broadcast to x alone', () => {
    const c: GradientCase = { opType: 'PRelu', inputs: [{ shape: [3] }, { shape: [2, 3] }] };
    expect(() =>
      evaluateOp(c, [constTensor(DataType.FLOAT, [3], [1, 2, 3]), constTensor(DataType.FLOAT, [2, 3], [1, 1, 1, 1, 1, 1])]),
    ).toThrow(/does not broadcast to the input's shape/);
  });
});

describe('Clip', () => {
  it.each([[{ min: { float: -0.5 }, max: { float: 0.5 } }], [{ min: { float: -0.5 } }], [{ max: { float: 0.25 } }], [{}]])(
    'attributes %j (opset 9)',
    (attributes) => checkGradient({ opType: 'Clip', opset: 9, attributes, inputs: [{ shape: [2, 3, 2] }] }),
  );
  it('constant bounds as inputs (opset 13)', () =>
    checkGradient({ opType: 'Clip', opset: 13, inputs: [{ shape: [2, 3, 2] }, scalarOperand(-0.5), scalarOperand(0.5)] }));
  it('only a max (opset 11)', () => checkGradient({ opType: 'Clip', opset: 11, inputs: [{ shape: [2, 3] }, null, scalarOperand(0.2)] }));
  it('only a min (opset 12)', () => checkGradient({ opType: 'Clip', opset: 12, inputs: [{ shape: [2, 3] }, scalarOperand(-0.2)] }));
  it('no bounds (opset 13)', () => checkGradient({ opType: 'Clip', opset: 13, inputs: [{ shape: [2, 3] }] }));
  it('computed bounds get Σ ȳ where x passes them', () =>
    checkGradient({ opType: 'Clip', opset: 13, inputs: [{ shape: [2, 3, 2] }, scalarOperand(-0.3, false), scalarOperand(0.4, false)] }));
  it('refuses a bound that is not a scalar', () => {
    const c: GradientCase = { opType: 'Clip', opset: 13, inputs: [{ shape: [3] }, { shape: [2], constant: true }] };
    expect(() => evaluateOp(c, [constTensor(DataType.FLOAT, [3], [1, 2, 3]), constTensor(DataType.FLOAT, [2], [0, 1])])).toThrow(
      /must be a scalar/,
    );
  });
  it('evaluates int64 (shape arithmetic) as ONNX Runtime', async () => {
    const x = [-5, 0, 3, 9];
    const c: GradientCase = {
      opType: 'Clip',
      opset: 13,
      inputs: [
        { shape: [4], values: x, dataType: DataType.INT64, constant: true },
        { shape: [], values: [0], dataType: DataType.INT64, constant: true },
        { shape: [], values: [4], dataType: DataType.INT64, constant: true },
      ],
    };
    const ours = evaluateOp(c, [
      constTensor(DataType.INT64, [4], x),
      constTensor(DataType.INT64, [], [0]),
      constTensor(DataType.INT64, [], [4]),
    ]);
    expect(plain(ours[0]!.values)).toEqual([0, 0, 3, 4]);
    expect((await runForward(c))[0]).toEqual([0, 0, 3, 4]);
  });
});

describe('Gelu (opset 20)', () => {
  it.each(['none', 'tanh'])('approximate = %s', async (approximate) => {
    for (const shape of SHAPES)
      await checkGradient({
        opType: 'Gelu',
        opset: 20,
        attributes: { approximate: { string: approximate } },
        inputs: [within(shape, -3, 3)],
      });
  });
  it('default approximation', () => checkGradient({ opType: 'Gelu', opset: 20, inputs: [within([2, 3], -3, 3)] }));
  it('refuses an unknown approximation', () => {
    const c: GradientCase = { opType: 'Gelu', opset: 20, attributes: { approximate: { string: 'erf' } }, inputs: [{ shape: [1] }] };
    expect(() => evaluateOp(c, [constTensor(DataType.FLOAT, [1], [1])])).toThrow(
      /approximate = "erf" is not supported; allowed: "none", "tanh"/,
    );
  });
  it('refuses opset 19, where Gelu is not an ONNX op', () => {
    const c: GradientCase = { opType: 'Gelu', opset: 19, inputs: [{ shape: [1] }] };
    expect(() => evaluateOp(c, [constTensor(DataType.FLOAT, [1], [1])])).toThrow(/from opset 20/);
  });
});

describe('Erf evaluate', () => {
  it('agrees with ONNX Runtime from −7 to 7', async () => {
    const x = Array.from({ length: 57 }, (_, i) => -7 + i * 0.25);
    const c: GradientCase = { opType: 'Erf', inputs: [{ shape: [x.length], values: x, constant: true }] };
    const ort = (await runForward(c))[0]!;
    x.forEach((v, i) => expect(erf(v)).toBeCloseTo(ort[i]!, 6));
  });
  it('matches known values to float64 precision', () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 15);
    expect(erf(-2)).toBeCloseTo(-0.9953222650189527, 15);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 15);
  });
});

describe('Dropout (inference)', () => {
  it.each([7, 10])('ratio as an attribute (opset %i)', (opset) =>
    checkGradient({ opType: 'Dropout', opset, attributes: { ratio: { float: 0.3 } }, inputs: [{ shape: [2, 3] }] }),
  );
  it('ratio and training_mode = false as inputs, with the mask output (opset 13)', () =>
    checkGradient({
      opType: 'Dropout',
      opset: 13,
      outputs: 2,
      inputs: [{ shape: [2, 3] }, scalarOperand(0.5), { shape: [], values: [0], dataType: DataType.BOOL, constant: true }],
    }));
  it('the mask is all true', () => {
    const c: GradientCase = { opType: 'Dropout', opset: 12, outputs: 2, inputs: [{ shape: [2], constant: true }] };
    const [y, mask] = evaluateOp(c, [constTensor(DataType.FLOAT, [2], [1, 2])]);
    expect(Array.from(y!.values)).toEqual([1, 2]);
    expect(mask!.dataType).toBe(DataType.BOOL);
    expect(Array.from(mask!.values)).toEqual([1, 1]);
  });
  it('refuses training_mode = true', () => {
    const c: GradientCase = {
      opType: 'Dropout',
      opset: 13,
      inputs: [{ shape: [2] }, scalarOperand(0.5), { shape: [], values: [1], dataType: DataType.BOOL, constant: true }],
    };
    expect(() =>
      evaluateOp(c, [
        constTensor(DataType.FLOAT, [2], [1, 2]),
        constTensor(DataType.FLOAT, [], [0.5]),
        constTensor(DataType.BOOL, [], [1]),
      ]),
    ).toThrow(/training_mode \(input 2\) is true/);
  });
});
