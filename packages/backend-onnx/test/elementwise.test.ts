import { describe, expect, it } from 'vitest';
import { constTensor } from '../src/model/const-tensor.js';
import { DataType } from '../src/model/data-type.js';
import { checkGradient, evaluateOp, uniformValues, type GradientCase, type Operand } from './helpers/check-gradient.js';
import { runForward, runGradient, runGraphGradient } from './helpers/run-gradient.js';

const size = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);
/** An operand with values in [lo, hi), away from the poles and kinks of the op under test. */
const within = (shape: number[], lo: number, hi: number, seed = 5, constant = false): Operand => ({
  shape,
  values: uniformValues(size(shape), seed, lo, hi),
  ...(constant ? { constant: true } : {}),
});
const ints = (values: number[], dataType = DataType.INT64): Operand => ({ shape: [values.length], values, dataType, constant: true });
const bools = (shape: number[], values: number[]): Operand => ({ shape, values, dataType: DataType.BOOL, constant: true });
/** −0 and 0 compare unequal in toEqual; the ops' semantics do not distinguish them. */
const plain = (values: ArrayLike<number>) => Array.from(values, (v) => v + 0);

const BROADCAST_PAIRS: Array<[number[], number[]]> = [
  [
    [2, 3],
    [2, 3],
  ],
  [
    [3, 1, 4],
    [2, 1],
  ],
  [[1], [2, 3]],
  [[2, 3], []],
  [[4], [3, 1]],
];

describe.each(['Add', 'Sub', 'Mul'])('%s', (opType) => {
  it.each(BROADCAST_PAIRS)('%j with %j', (a, b) => checkGradient({ opType, inputs: [{ shape: a }, { shape: b }] }));
  it('with a constant operand, at opset 7', () =>
    checkGradient({ opType, opset: 7, inputs: [{ shape: [2, 3] }, { shape: [3], constant: true }] }));
});

describe('Div', () => {
  it.each(BROADCAST_PAIRS)('%j by %j', (a, b) => checkGradient({ opType: 'Div', inputs: [{ shape: a }, within(b, 0.5, 1.5)] }));
  it('by a negative constant', () => checkGradient({ opType: 'Div', inputs: [{ shape: [2, 3] }, within([3], -1.5, -0.5, 3, true)] }));
});

describe('integer arithmetic, for folding shapes', () => {
  const cases: Array<[string, number[], number[]]> = [
    ['Add', [7, -7, 3], [2, 2, -5]],
    ['Sub', [7, -7, 3], [2, 2, -5]],
    ['Mul', [7, -7, 3], [2, 2, -5]],
    ['Div', [7, -7, 7, -7, 6], [2, 2, -2, -2, 3]],
  ];
  it.each(cases)('%s on int64 agrees with ONNX Runtime', async (opType, a, b) => {
    const c: GradientCase = { opType, inputs: [ints(a), ints(b)] };
    const [ours] = evaluateOp(c, [constTensor(DataType.INT64, [a.length], a), constTensor(DataType.INT64, [b.length], b)]);
    expect(ours!.dataType).toBe(DataType.INT64);
    expect(plain(ours!.values)).toEqual((await runForward(c))[0]);
  });
  it('Div truncates toward zero on int32', async () => {
    const c: GradientCase = { opType: 'Div', inputs: [ints([7, -7, -1], DataType.INT32), ints([2, 2, 3], DataType.INT32)] };
    const forward = await runForward(c);
    expect(forward[0]).toEqual([3, -3, 0]);
  });
  it('broadcasts int64 shapes', () => {
    const c: GradientCase = {
      opType: 'Mul',
      inputs: [ints([2, 3, 4]), { shape: [], values: [2], dataType: DataType.INT64, constant: true }],
    };
    const [y] = evaluateOp(c, [constTensor(DataType.INT64, [3], [2, 3, 4]), constTensor(DataType.INT64, [], [2])]);
    expect(Array.from(y!.values)).toEqual([4, 6, 8]);
  });
});

describe('Pow', () => {
  it.each([[2], [3], [0.5], [-1], [1]])('x^%d (constant exponent)', (k) =>
    checkGradient({ opType: 'Pow', inputs: [within([2, 3], 0.5, 1.5), { shape: [], values: [k], constant: true }] }),
  );
  it('a constant exponent per column', () =>
    checkGradient({ opType: 'Pow', inputs: [within([2, 3], 0.5, 1.5), { shape: [3], values: [2, -0.5, 1.5], constant: true }] }));
  it('an int64 exponent (opset 13)', () =>
    checkGradient({
      opType: 'Pow',
      opset: 13,
      inputs: [{ shape: [2, 3] }, { shape: [], values: [3], dataType: DataType.INT64, constant: true }],
    }));
  it.each([
    [
      [2, 3],
      [2, 3],
    ],
    [
      [3, 1, 2],
      [2, 1],
    ],
    [[2, 3], [1]],
  ])('base %j, computed exponent %j', (a, b) => checkGradient({ opType: 'Pow', inputs: [within(a, 0.5, 1.5), within(b, -1, 2, 7)] }));
  it('computed exponent at opset 9 (no float Equal)', () =>
    checkGradient({ opType: 'Pow', opset: 9, inputs: [within([2, 3], 0.5, 1.5), within([3], -1, 2, 7)] }));
  it('the exponent gets 0, not NaN, where the base is 0', async () => {
    const gradient = await runGradient(
      {
        opType: 'Pow',
        inputs: [
          { shape: [3], values: [0, 2, 0.5], constant: true },
          { shape: [3], values: [2, 1.5, 3] },
        ],
      },
      1,
    );
    expect(gradient[0]).toBe(0);
    expect(gradient[1]).toBeCloseTo(2 ** 1.5 * Math.log(2), 4);
    expect(gradient[2]).toBeCloseTo(0.5 ** 3 * Math.log(0.5), 5);
  });
});

describe('Sum', () => {
  it('one operand', () => checkGradient({ opType: 'Sum', inputs: [{ shape: [2, 3] }] }));
  it('two operands, broadcast', () => checkGradient({ opType: 'Sum', inputs: [{ shape: [3, 1, 4] }, { shape: [2, 1] }] }));
  it('three operands, broadcast', () => checkGradient({ opType: 'Sum', inputs: [{ shape: [2, 3] }, { shape: [3] }, { shape: [2, 1] }] }));
});

describe.each(['Max', 'Min'])('%s', (opType) => {
  it('one operand', () => checkGradient({ opType, inputs: [{ shape: [2, 3] }] }));
  // Each operand wins somewhere, so that no reference is all zeros.
  it.each(BROADCAST_PAIRS)('%j with %j', (a, b) =>
    checkGradient({ opType, inputs: [{ shape: a }, b.length === 0 ? { shape: b, values: [-0.3] } : { shape: b }] }),
  );
  it('three operands, broadcast', () =>
    checkGradient({
      opType,
      inputs: [
        { shape: [2, 3], values: [0.9, -0.5, 0.2, -0.1, -0.9, 0.5] },
        { shape: [3], values: [0.8, -0.8, 0.1] },
        { shape: [2, 1], values: [0.3, -0.4] },
      ],
    }));
  it('at opset 8', () => checkGradient({ opType, opset: 8, inputs: [{ shape: [2, 3] }, { shape: [3] }] }));

  // Ties go to the first operand (ONNX, docs/methods.md): expected values by hand.
  const a = [0.5, -1, 2, 3];
  const b = [0.5, -1, 1, 4];
  const c = [0.5, 0, 2, 3];
  const firstWins = opType === 'Max' ? [1, 0, 1, 0] : [1, 1, 0, 1];
  it('a tie of two goes to the first operand', async () => {
    const pair = (variable: number): GradientCase => ({
      opType,
      inputs: [0, 1].map((i) => ({ shape: [4], values: i === 0 ? a : b, constant: i !== variable })),
    });
    expect(plain(await runGradient(pair(0), 0))).toEqual(opType === 'Max' ? [1, 1, 1, 0] : [1, 1, 0, 1]);
    expect(plain(await runGradient(pair(1), 1))).toEqual(opType === 'Max' ? [0, 0, 0, 1] : [0, 0, 1, 0]);
  });
  it('a tie of three goes to the first operand', async () => {
    const triple = (variable: number): GradientCase => ({
      opType,
      inputs: [a, b, c].map((values, i) => ({ shape: [4], values, constant: i !== variable })),
    });
    // Max: [tie of 3 → a, c wins (0 > −1), a and c tie → a, b wins]; Min: [a, a/b tie → a, b, a/c tie → a].
    expect(plain(await runGradient(triple(0), 0))).toEqual(firstWins);
    expect(plain(await runGradient(triple(1), 1))).toEqual(opType === 'Max' ? [0, 0, 0, 1] : [0, 0, 1, 0]);
    expect(plain(await runGradient(triple(2), 2))).toEqual(opType === 'Max' ? [0, 1, 0, 0] : [0, 0, 0, 0]);
  });
  it('Max(x, x) passes the whole cotangent', async () => {
    const gradient = await runGraphGradient({
      nodes: [{ opType, inputs: ['x', 'x'], outputs: ['y'] }],
      x: { shape: [3], values: [1, -2, 0] },
      output: 'y',
      outputSize: 3,
    });
    expect(plain(gradient)).toEqual([1, 1, 1]);
  });
});

describe('unary', () => {
  const SHAPES = [[1], [2, 3], [2, 3, 2]];
  const domains: Array<[string, number, number]> = [
    ['Sqrt', 0.2, 2],
    ['Exp', -1, 1],
    ['Log', 0.2, 2],
    ['Neg', -1, 1],
    ['Abs', -1, 1],
    ['Reciprocal', 0.5, 2],
  ];
  describe.each(domains)('%s', (opType, lo, hi) => {
    it.each(SHAPES)('%j', (...shape) => checkGradient({ opType, inputs: [within(shape, lo, hi)] }));
  });
  it('Abs at opset 8 (no Sign)', () => checkGradient({ opType: 'Abs', opset: 8, inputs: [{ shape: [2, 3] }] }));
  it.each([13, 8])('Abs at 0 has derivative 0 (opset %i)', async (opset) => {
    const gradient = await runGradient({ opType: 'Abs', opset, inputs: [{ shape: [3], values: [-2, 0, 3] }] }, 0, [2, 2, 2]);
    expect(plain(gradient)).toEqual([-2, 0, 2]);
  });
});

describe.each([
  ['Floor', [-1.5, -0.5, 0.5, 1.5, 2, -2.7], [-2, -1, 0, 1, 2, -3]],
  ['Ceil', [-1.5, -0.5, 0.5, 1.5, 2, -2.7], [-1, -0, 1, 2, 2, -2]],
  ['Round', [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.4, 0.6], [0, 2, 2, -0, -2, -2, 0, 1]],
])('%s', (opType, x, expected) => {
  const c: GradientCase = { opType, inputs: [{ shape: [x.length], values: x, constant: true }] };
  it('evaluates as ONNX Runtime', async () => {
    expect(plain(evaluateOp(c, [constTensor(DataType.FLOAT, [x.length], x)])[0]!.values)).toEqual(plain(expected));
    expect(plain((await runForward(c))[0]!)).toEqual(plain(expected));
  });
  it('has a zero gradient (piecewise constant)', async () => {
    expect(Array.from(await runGradient({ opType, inputs: [{ shape: [3], values: [0.3, -1.2, 2.6] }] }, 0))).toEqual([0, 0, 0]);
  });
});

describe('Cast', () => {
  it('float to float passes the cotangent', () =>
    checkGradient({ opType: 'Cast', attributes: { to: { int: DataType.FLOAT } }, inputs: [{ shape: [2, 3] }] }));
  it('float to double casts the cotangent back', () =>
    checkGradient({ opType: 'Cast', attributes: { to: { int: DataType.DOUBLE } }, inputs: [{ shape: [2, 3] }] }));
  it.each([
    [DataType.INT64, [1.7, -1.7, 2.5, -0.2, 3]],
    [DataType.INT32, [1.7, -1.7, 2.5, -0.2, 3]],
    [DataType.BOOL, [1.7, 0, -0.2, 0, 3]],
  ])('to type %i evaluates as ONNX Runtime', async (to, x) => {
    const c: GradientCase = { opType: 'Cast', attributes: { to: { int: to } }, inputs: [{ shape: [x.length], values: x, constant: true }] };
    const ours = evaluateOp(c, [constTensor(DataType.FLOAT, [x.length], x)])[0]!;
    expect(ours.dataType).toBe(to);
    expect(plain(ours.values)).toEqual((await runForward(c))[0]);
  });
  it('int64 to float evaluates', () => {
    const c: GradientCase = { opType: 'Cast', attributes: { to: { int: DataType.FLOAT } }, inputs: [ints([2, 3])] };
    expect(Array.from(evaluateOp(c, [constTensor(DataType.INT64, [2], [2, 3])])[0]!.values)).toEqual([2, 3]);
  });
  it('refuses a type it cannot compute with', () => {
    const c: GradientCase = { opType: 'Cast', attributes: { to: { int: DataType.STRING } }, inputs: [{ shape: [1], constant: true }] };
    expect(() => evaluateOp(c, [constTensor(DataType.FLOAT, [1], [1])])).toThrow(/attribute to = 8/);
  });
});

describe('comparisons and logic evaluate as ONNX Runtime', () => {
  const a = [1, 2, 3, -1, 0, 2];
  const b = [2, 2, 1];
  const cases: Array<[string, number]> = [
    ['Equal', 13],
    ['Less', 13],
    ['Greater', 13],
    ['LessOrEqual', 16],
    ['GreaterOrEqual', 16],
  ];
  it.each(cases)('%s on float and int64, broadcast', async (opType, opset) => {
    for (const dataType of [DataType.FLOAT, DataType.INT64]) {
      const c: GradientCase = {
        opType,
        opset,
        inputs: [
          { shape: [2, 3], values: a, dataType, constant: true },
          { shape: [3], values: b, dataType, constant: true },
        ],
      };
      const ours = evaluateOp(c, [constTensor(dataType, [2, 3], a), constTensor(dataType, [3], b)])[0]!;
      expect(ours.dataType).toBe(DataType.BOOL);
      expect(Array.from(ours.values)).toEqual((await runForward(c))[0]);
    }
  });
  it.each(['And', 'Or'])('%s', async (opType) => {
    const c: GradientCase = { opType, inputs: [bools([2, 2], [0, 1, 0, 1]), bools([2, 1], [0, 1])] };
    const ours = evaluateOp(c, [constTensor(DataType.BOOL, [2, 2], [0, 1, 0, 1]), constTensor(DataType.BOOL, [2, 1], [0, 1])])[0]!;
    expect(Array.from(ours.values)).toEqual((await runForward(c))[0]);
  });
  it('Not', async () => {
    const c: GradientCase = { opType: 'Not', inputs: [bools([3], [0, 1, 1])] };
    expect(Array.from(evaluateOp(c, [constTensor(DataType.BOOL, [3], [0, 1, 1])])[0]!.values)).toEqual([1, 0, 0]);
    expect((await runForward(c))[0]).toEqual([1, 0, 0]);
  });
  it('refuses LessOrEqual before opset 12', () => {
    const c: GradientCase = {
      opType: 'LessOrEqual',
      opset: 11,
      inputs: [
        { shape: [1], constant: true },
        { shape: [1], constant: true },
      ],
    };
    expect(() => evaluateOp(c, [constTensor(DataType.FLOAT, [1], [1]), constTensor(DataType.FLOAT, [1], [2])])).toThrow(/from opset 12/);
  });
});

describe('Where', () => {
  const cond = bools([2, 1], [1, 0]);
  it('constant condition, X and Y broadcast', () =>
    checkGradient({ opType: 'Where', inputs: [cond, { shape: [3, 1, 4] }, { shape: [4] }] }));
  it('constant condition broadcast over equal shapes', () =>
    checkGradient({ opType: 'Where', opset: 9, inputs: [bools([3], [0, 1, 1]), { shape: [2, 3] }, { shape: [2, 3] }] }));
  it('evaluates int64 (shape arithmetic)', async () => {
    const c: GradientCase = { opType: 'Where', inputs: [bools([3], [1, 0, 1]), ints([1, 2, 3]), ints([-1])] };
    const ours = evaluateOp(c, [
      constTensor(DataType.BOOL, [3], [1, 0, 1]),
      constTensor(DataType.INT64, [3], [1, 2, 3]),
      constTensor(DataType.INT64, [1], [-1]),
    ]);
    expect(Array.from(ours[0]!.values)).toEqual([1, -1, 3]);
    expect((await runForward(c))[0]).toEqual([1, -1, 3]);
  });
  it('a computed condition: x > 0 ? x : 0.1·x', async () => {
    const gradient = await runGraphGradient(
      {
        nodes: [
          { opType: 'Greater', inputs: ['x', 'zero'], outputs: ['c'] },
          { opType: 'Mul', inputs: ['x', 'tenth'], outputs: ['small'] },
          { opType: 'Where', inputs: ['c', 'x', 'small'], outputs: ['y'] },
        ],
        initializers: { zero: constTensor(DataType.FLOAT, [], [0]), tenth: constTensor(DataType.FLOAT, [], [0.1]) },
        x: { shape: [4], values: [-1, 0, 2, 0.5] },
        output: 'y',
        outputSize: 4,
      },
      [1, 2, 3, 4],
    );
    expect(Array.from(gradient, (v) => Math.fround(v))).toEqual([0.1, 0.2, 3, 4].map(Math.fround));
  });
  it('an infinite branch the condition rules out leaves the cotangent finite', async () => {
    const gradient = await runGradient(
      {
        opType: 'Where',
        inputs: [
          bools([3], [1, 0, 1]),
          { shape: [3], values: [1, 2, 3] },
          { shape: [3], values: [-Infinity, 5, -Infinity], constant: true },
        ],
      },
      1,
    );
    expect(plain(gradient)).toEqual([1, 0, 1]);
  });
});

describe('Gelu as PyTorch exports it below opset 20 (Div, Erf, Add, Mul)', () => {
  it('x·½(1 + erf(x/√2)) has derivative Φ(x) + x·φ(x)', async () => {
    const x = [-2, -0.5, 0, 0.7, 1.5];
    const gradient = await runGraphGradient({
      nodes: [
        { opType: 'Div', inputs: ['x', 'sqrt2'], outputs: ['a'] },
        { opType: 'Erf', inputs: ['a'], outputs: ['b'] },
        { opType: 'Add', inputs: ['b', 'one'], outputs: ['c'] },
        { opType: 'Mul', inputs: ['x', 'c'], outputs: ['d'] },
        { opType: 'Mul', inputs: ['d', 'half'], outputs: ['y'] },
      ],
      initializers: {
        sqrt2: constTensor(DataType.FLOAT, [], [Math.SQRT2]),
        one: constTensor(DataType.FLOAT, [], [1]),
        half: constTensor(DataType.FLOAT, [], [0.5]),
      },
      x: { shape: [5], values: x },
      output: 'y',
      outputSize: 5,
      opset: 17,
    });
    const phi = (v: number) => Math.exp((-v * v) / 2) / Math.sqrt(2 * Math.PI);
    // Φ by the erf of the activations' evaluate, checked there against ONNX Runtime.
    const { erf } = await import('../src/ops/activations.js');
    x.forEach((v, i) => expect(gradient[i]).toBeCloseTo(0.5 * (1 + erf(v / Math.SQRT2)) + v * phi(v), 5));
  });
});
