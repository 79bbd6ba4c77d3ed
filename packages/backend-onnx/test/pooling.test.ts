import { describe, expect, it } from 'vitest';
import type { AttributeValue } from '../src/model/attribute-value.js';
import { constTensor } from '../src/model/const-tensor.js';
import { DataType } from '../src/model/data-type.js';
import { runForward, runGraphGradient } from './helpers/run-gradient.js';
import { checkGradient, evaluateOp, expectClose, uniformValues } from './helpers/check-gradient.js';
import { node, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';
import { fromBinary } from '@bufbuild/protobuf';
import { buildGradientModel } from '../src/autodiff/build-gradient-model.js';
import { ModelProtoSchema } from '../src/proto/onnx_pb.js';

const ints = (values: number[]): AttributeValue => ({ ints: values });

interface PoolCase {
  readonly name: string;
  readonly x: number[];
  readonly attributes: Record<string, AttributeValue>;
  readonly opset?: number;
}

function poolCases(opType: string, cases: PoolCase[]) {
  it.each(cases)('$name', ({ x, attributes, opset }) =>
    checkGradient({ opType, attributes, ...(opset === undefined ? {} : { opset }), inputs: [{ shape: x }] }),
  );
}

describe('MaxPool', () => {
  poolCases('MaxPool', [
    {
      name: '1-D, kernel 3, stride 2, pads',
      x: [1, 2, 9],
      attributes: { kernel_shape: ints([3]), strides: ints([2]), pads: ints([1, 1]) },
    },
    {
      name: '2-D, 3×3 stride 2 pad 1 (ResNet stem)',
      x: [1, 2, 7, 7],
      attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
    },
    { name: '2-D, 2×2 stride 2', x: [2, 2, 6, 4], attributes: { kernel_shape: ints([2, 2]), strides: ints([2, 2]) } },
    {
      name: '2-D, stride 1, dilations',
      x: [1, 2, 7, 6],
      attributes: { kernel_shape: ints([2, 3]), dilations: ints([2, 1]), pads: ints([1, 0, 0, 1]) },
    },
    { name: '2-D, ceil_mode', x: [1, 2, 6, 7], attributes: { kernel_shape: ints([3, 2]), strides: ints([2, 2]), ceil_mode: { int: 1 } } },
    {
      name: '2-D, ceil_mode with pads',
      x: [1, 1, 7, 6],
      attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 3]), pads: ints([1, 1, 1, 0]), ceil_mode: { int: 1 } },
    },
    {
      name: 'ceil_mode dropping a window that starts in the padding',
      x: [1, 1, 5, 5],
      attributes: { kernel_shape: ints([2, 2]), strides: ints([3, 3]), pads: ints([1, 1, 1, 1]), ceil_mode: { int: 1 } },
    },
    {
      name: 'opset 22',
      opset: 22,
      x: [1, 2, 6, 6],
      attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
    },
    {
      name: 'SAME_UPPER',
      x: [1, 2, 5, 6],
      attributes: { kernel_shape: ints([3, 2]), strides: ints([2, 2]), auto_pad: { string: 'SAME_UPPER' } },
    },
    {
      name: 'SAME_LOWER',
      x: [1, 2, 5, 6],
      attributes: { kernel_shape: ints([2, 3]), strides: ints([2, 1]), auto_pad: { string: 'SAME_LOWER' } },
    },
    {
      name: 'VALID, stride 3',
      x: [1, 2, 8, 7],
      attributes: { kernel_shape: ints([2, 2]), strides: ints([3, 3]), auto_pad: { string: 'VALID' } },
    },
    {
      name: 'opset 8 (Slice without steps, Pad attributes)',
      opset: 8,
      x: [1, 2, 7, 7],
      attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
    },
    {
      name: 'opset 11 (Pad inputs)',
      opset: 11,
      x: [1, 2, 6, 5],
      attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 1]), pads: ints([1, 0, 1, 1]) },
    },
    {
      name: '3-D',
      x: [1, 1, 4, 5, 4],
      attributes: { kernel_shape: ints([2, 3, 2]), strides: ints([2, 2, 1]), pads: ints([0, 1, 0, 0, 1, 1]) },
    },
    // Below opset 16 (no ScatterElements reduction): the construction from comparisons.
    {
      name: 'opset 15, 3×3 stride 2 pad 1',
      opset: 15,
      x: [2, 2, 7, 6],
      attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
    },
    {
      name: 'opset 15, ceil_mode, dilations',
      opset: 15,
      x: [1, 2, 7, 8],
      attributes: { kernel_shape: ints([2, 3]), strides: ints([2, 2]), dilations: ints([2, 1]), ceil_mode: { int: 1 } },
    },
    {
      name: 'opset 15, 3-D',
      opset: 15,
      x: [1, 1, 4, 5, 4],
      attributes: { kernel_shape: ints([2, 3, 2]), strides: ints([2, 2, 1]), pads: ints([0, 1, 0, 0, 1, 1]) },
    },
    { name: 'opset 16, 1-D', opset: 16, x: [2, 2, 9], attributes: { kernel_shape: ints([3]), strides: ints([2]), pads: ints([1, 1]) } },
    // Below opset 16, windows that tile the input: rearranged into rows, one first maximum per row.
    {
      name: 'opset 15, tiling 8×8 windows, the last row past them',
      opset: 15,
      x: [1, 2, 17, 16],
      attributes: { kernel_shape: ints([8, 8]), strides: ints([8, 8]) },
    },
    { name: 'opset 13, tiling 1-D window of 12', opset: 13, x: [2, 1, 25], attributes: { kernel_shape: ints([12]), strides: ints([12]) } },
    {
      name: 'opset 8, tiling 3-D windows',
      opset: 8,
      x: [1, 2, 4, 6, 4],
      attributes: { kernel_shape: ints([2, 3, 4]), strides: ints([2, 3, 4]) },
    },
    { name: 'opset 15, tiling 2×2 windows', opset: 15, x: [2, 2, 6, 4], attributes: { kernel_shape: ints([2, 2]), strides: ints([2, 2]) } },
  ]);

  it('refuses storage_order 1', async () => {
    await expect(
      checkGradient({
        opType: 'MaxPool',
        attributes: { kernel_shape: ints([2, 2]), storage_order: { int: 1 } },
        inputs: [{ shape: [1, 1, 4, 4] }],
      }),
    ).rejects.toThrow(/storage_order 1 is not supported/);
  });
});

describe('MaxPool below opset 16 with windows that tile the input: a graph whose size does not grow with the window', () => {
  /** The gradient graph of one MaxPool k×k stride k over x [1, 2, 32, 32] at opset 15: its node count and largest constant. */
  function built(k: number): { nodes: number; largestConstant: number } {
    const model = onnxModel({
      opset: 15,
      nodes: [node('MaxPool', ['x'], ['y'], { kernel_shape: ints([k, k]), strides: ints([k, k]) }), node('Flatten', ['y'], ['logits'])],
      inputs: [valueInfo('x', [1, 2, 32, 32])],
      outputs: [valueInfo('logits', [1, 0])],
    });
    const graph = fromBinary(
      ModelProtoSchema,
      buildGradientModel(model, { inputName: 'x', inputShape: [1, 2, 32, 32], outputName: 'logits', keepSoftmax: true, result: 'gradient' })
        .bytes,
    ).graph!;
    const elements = graph.initializer.map((t) => t.dims.reduce((a, b) => a * Number(b), 1));
    return { nodes: graph.node.length, largestConstant: Math.max(0, ...elements) };
  }

  it('the same nodes for a 2×2 and a 32×32 window, and constants of the tap count', () => {
    const [small, large] = [built(2), built(32)];
    expect(large.nodes).toBe(small.nodes);
    expect(large.largestConstant).toBeLessThanOrEqual(32 * 32);
  });

  it('a 16×16 window: the gradient against central differences', () =>
    checkGradient({
      opType: 'MaxPool',
      opset: 15,
      attributes: { kernel_shape: ints([16, 16]), strides: ints([16, 16]) },
      inputs: [{ shape: [1, 2, 32, 33] }],
    }));
});

describe('AveragePool', () => {
  poolCases('AveragePool', [
    {
      name: '1-D, pads, count_include_pad 0',
      x: [1, 2, 9],
      attributes: { kernel_shape: ints([3]), strides: ints([2]), pads: ints([1, 2]) },
    },
    {
      name: '1-D, pads, count_include_pad 1',
      x: [1, 2, 9],
      attributes: { kernel_shape: ints([3]), strides: ints([2]), pads: ints([1, 2]), count_include_pad: { int: 1 } },
    },
    {
      name: '2-D, 3×3 stride 2 pad 1',
      x: [2, 2, 7, 6],
      attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
    },
    {
      name: '2-D, count_include_pad 1',
      x: [1, 2, 7, 6],
      attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 0, 1, 1]), count_include_pad: { int: 1 } },
    },
    { name: '2-D, 2×2 stride 2, no pads', x: [1, 3, 6, 4], attributes: { kernel_shape: ints([2, 2]), strides: ints([2, 2]) } },
    { name: 'ceil_mode', x: [1, 2, 7, 6], attributes: { kernel_shape: ints([3, 2]), strides: ints([2, 2]), ceil_mode: { int: 1 } } },
    {
      name: 'ceil_mode, pads, count_include_pad 1',
      x: [1, 1, 7, 6],
      attributes: {
        kernel_shape: ints([3, 3]),
        strides: ints([2, 2]),
        pads: ints([1, 1, 1, 1]),
        ceil_mode: { int: 1 },
        count_include_pad: { int: 1 },
      },
    },
    {
      name: 'ceil_mode dropping a window that starts in the padding',
      x: [1, 1, 5, 5],
      attributes: {
        kernel_shape: ints([2, 2]),
        strides: ints([3, 3]),
        pads: ints([1, 1, 1, 1]),
        ceil_mode: { int: 1 },
        count_include_pad: { int: 1 },
      },
    },
    {
      name: 'opset 22',
      opset: 22,
      x: [1, 2, 6, 5],
      attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
    },
    {
      name: 'SAME_UPPER',
      x: [1, 2, 5, 6],
      attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), auto_pad: { string: 'SAME_UPPER' } },
    },
    {
      name: 'SAME_LOWER, count_include_pad 1',
      x: [1, 2, 5, 6],
      attributes: { kernel_shape: ints([2, 3]), strides: ints([1, 2]), auto_pad: { string: 'SAME_LOWER' }, count_include_pad: { int: 1 } },
    },
    {
      name: 'dilations (opset 19)',
      opset: 19,
      x: [1, 2, 7, 6],
      attributes: { kernel_shape: ints([2, 2]), dilations: ints([2, 2]), pads: ints([1, 0, 1, 1]) },
    },
    {
      name: 'opset 7',
      opset: 7,
      x: [1, 2, 5, 5],
      attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
    },
    {
      name: '3-D',
      x: [1, 1, 4, 5, 4],
      attributes: { kernel_shape: ints([2, 3, 2]), strides: ints([2, 2, 1]), pads: ints([0, 1, 0, 0, 1, 1]) },
    },
  ]);
});

describe('GlobalAveragePool', () => {
  it.each([[[1, 3, 4, 5]], [[2, 2, 7]], [[1, 2, 2, 3, 2]]])('%j', (x) =>
    checkGradient({ opType: 'GlobalAveragePool', inputs: [{ shape: x }] }),
  );
});

describe('GlobalMaxPool', () => {
  it.each([[[1, 3, 4, 5]], [[2, 2, 7]], [[1, 2, 2, 3, 2]]])('%j', (x) =>
    checkGradient({ opType: 'GlobalMaxPool', inputs: [{ shape: x }] }),
  );
  it.each([7, 11, 17])('at opset %i', (opset) => checkGradient({ opType: 'GlobalMaxPool', opset, inputs: [{ shape: [1, 2, 3, 4] }] }));
});

// ---- Ties: the cotangent goes to the FIRST maximal element of each window (row-major). ----

/** Runs our gradient graph of `x → op → flatten` for the given input values and cotangent. */
function gradientOf(
  opType: string,
  attributes: Record<string, AttributeValue>,
  shape: number[],
  x: ArrayLike<number>,
  cotangent: ArrayLike<number>,
  opset = 17,
) {
  return runGraphGradient(
    {
      nodes: [{ opType, inputs: ['x'], outputs: ['y'], attributes }],
      x: { shape, values: x },
      output: 'y',
      outputSize: cotangent.length,
      opset,
    },
    cotangent,
  );
}

interface Pool2d {
  readonly kernel: [number, number];
  readonly strides: [number, number];
  readonly pads: [number, number, number, number];
  readonly dilations: [number, number];
  readonly ceil: boolean;
}

function outSize(input: number, k: number, s: number, d: number, begin: number, end: number, ceil: boolean): number {
  const span = input + begin + end - (k - 1) * d - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= input + begin) out--;
  return out;
}

/** First-max routing by hand: scan each window row by row, keep the first strictly greater value. */
function routeFirstMax(x: ArrayLike<number>, shape: readonly number[], p: Pool2d, cotangent: ArrayLike<number>) {
  const [n = 0, c = 0, h = 0, w = 0] = shape;
  const oh = outSize(h, p.kernel[0], p.strides[0], p.dilations[0], p.pads[0], p.pads[2], p.ceil);
  const ow = outSize(w, p.kernel[1], p.strides[1], p.dilations[1], p.pads[1], p.pads[3], p.ceil);
  const gradient = new Float64Array(n * c * h * w);
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++, o++) {
        let best = -Infinity;
        let at = -1;
        for (let a = 0; a < p.kernel[0]; a++) {
          for (let b = 0; b < p.kernel[1]; b++) {
            const r = i * p.strides[0] + a * p.dilations[0] - p.pads[0];
            const q = j * p.strides[1] + b * p.dilations[1] - p.pads[1];
            if (r < 0 || r >= h || q < 0 || q >= w) continue;
            const index = plane * h * w + r * w + q;
            if (at < 0 || x[index]! > best) {
              best = x[index]!;
              at = index;
            }
          }
        }
        if (o < cotangent.length) gradient[at] = gradient[at]! + cotangent[o]!;
      }
    }
  }
  return { gradient, outputs: o };
}

/** The pool's attributes; dilations and ceil_mode only where set, as they do not exist before opset 10. */
function attributesOf(p: Pool2d): Record<string, AttributeValue> {
  return {
    kernel_shape: ints(p.kernel),
    strides: ints(p.strides),
    pads: ints(p.pads),
    ...(p.dilations.some((d) => d !== 1) ? { dilations: ints(p.dilations) } : {}),
    ...(p.ceil ? { ceil_mode: { int: 1 } } : {}),
  };
}

/** Small integers: many windows hold their maximum more than once. */
function tiedValues(count: number, seed: number, levels: number): Float64Array {
  return uniformValues(count, seed, 0, 1).map((v) => Math.floor(v * levels));
}

const stem: Pool2d = { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], ceil: false };

// Each case at opset 15 (comparisons) and 17 (Indices and ScatterElements), unless it names its opset.
describe.each([15, 17])('MaxPool ties (opset %i unless given)', (defaultOpset) => {
  const cases: Array<{ name: string; shape: number[]; pool: Pool2d; levels: number; opset?: number }> = [
    { name: 'all zeros, 3×3 stride 2 pad 1', shape: [1, 2, 7, 7], pool: stem, levels: 1 },
    {
      name: 'all zeros, 2×2 stride 1',
      shape: [1, 1, 5, 6],
      pool: { ...stem, kernel: [2, 2], strides: [1, 1], pads: [0, 0, 0, 0] },
      levels: 1,
    },
    { name: 'repeated maxima, 3×3 stride 2 pad 1', shape: [2, 3, 8, 8], pool: stem, levels: 3 },
    { name: 'repeated maxima, opset 8', shape: [1, 3, 8, 7], pool: stem, levels: 2, opset: 8 },
    { name: 'repeated maxima, opset 11', shape: [1, 3, 7, 8], pool: stem, levels: 2, opset: 11 },
    { name: 'repeated maxima, ceil_mode', shape: [1, 2, 8, 7], pool: { ...stem, pads: [1, 0, 0, 1], ceil: true }, levels: 2 },
    { name: 'repeated maxima, dilations', shape: [1, 2, 7, 7], pool: { ...stem, strides: [1, 2], dilations: [2, 1] }, levels: 2 },
    { name: '1-D as one row, repeated maxima', shape: [1, 2, 1, 11], pool: { ...stem, kernel: [1, 3], pads: [0, 1, 0, 1] }, levels: 2 },
    {
      name: 'repeated maxima, tiling 4×4 windows',
      shape: [1, 2, 9, 8],
      pool: { ...stem, kernel: [4, 4], strides: [4, 4], pads: [0, 0, 0, 0] },
      levels: 2,
    },
  ];
  it.each(cases)('$name', async ({ shape, pool, levels, opset = defaultOpset }) => {
    const x = tiedValues(
      shape.reduce((a, b) => a * b, 1),
      shape.length + levels,
      levels,
    );
    const probe = routeFirstMax(x, shape, pool, new Float64Array(0));
    const cotangent = uniformValues(probe.outputs, 5, 0.5, 1.5);
    const { gradient } = routeFirstMax(x, shape, pool, cotangent);
    const actual = await gradientOf('MaxPool', attributesOf(pool), shape, x, cotangent, opset);
    expectClose(actual, gradient, 1e-6, 'first-max routing');
  });

  it('routes an explicit tie to its first position', async () => {
    // The stem's window at output (0, 0) reads rows 0..1 and columns 0..1 of the input: its 5 at (0, 1)
    // comes before its 5 at (1, 0). Output (0, 1) also takes (0, 1); output (1, 0) takes (1, 0); output (1, 1) its max 1 at (1, 1).
    const x = [0, 5, 0, 5, 1, 0, 0, 0, 0];
    const actual = await gradientOf('MaxPool', attributesOf(stem), [1, 1, 3, 3], x, [1, 10, 100, 1000], defaultOpset);
    expect(Array.from(actual)).toEqual([0, 1 + 10, 0, 100, 1000, 0, 0, 0, 0]);
  });

  it('evaluate gives the Indices that ONNX Runtime gives, ties included', async () => {
    const shape = [2, 2, 7, 6];
    const x = tiedValues(2 * 2 * 7 * 6, 3, 2);
    const attributes = attributesOf(stem);
    const c = { opType: 'MaxPool', attributes, outputs: 2, opset: defaultOpset, inputs: [{ shape, values: x }] };
    const [y, indices] = evaluateOp(c, [constTensor(DataType.FLOAT, shape, x)]);
    const [ortY, ortIndices] = await runForward(c);
    expect(ortY).toEqual(Array.from(y!.values));
    expect(ortIndices).toEqual(Array.from(indices!.values));
  });
});

describe('GlobalMaxPool ties', () => {
  it.each([7, 13, 17])('routes to the first maximum at opset %i', async (opset) => {
    const shape = [2, 3, 3, 4];
    const x = tiedValues(72, 9, 2);
    x.fill(0, 12, 24); // one all-zero plane
    const cotangent = [1, 2, 3, 4, 5, 6];
    const expected = new Float64Array(72);
    for (let plane = 0; plane < 6; plane++) {
      let at = plane * 12;
      for (let i = plane * 12; i < (plane + 1) * 12; i++) if (x[i]! > x[at]!) at = i;
      expected[at] = cotangent[plane]!;
    }
    const actual = await gradientOf('GlobalMaxPool', {}, shape, x, cotangent, opset);
    expect(Array.from(actual)).toEqual(Array.from(expected));
  });
});
