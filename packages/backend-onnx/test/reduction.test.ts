import { toBinary } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { AttributeValue } from '../src/model/attribute-value.js';
import { buildGradientModel, COTANGENT_INPUT, GRADIENT_OUTPUT } from '../src/autodiff/build-gradient-model.js';
import { constTensor } from '../src/model/const-tensor.js';
import { ModelProtoSchema } from '../src/proto/onnx_pb.js';
import { DataType } from '../src/model/data-type.js';
import { checkGradient, evaluateOp, type GradientCase, type Operand } from './helpers/check-gradient.js';
import { node, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';

const int64 = (values: number[]): Operand => ({ shape: [values.length], values, dataType: DataType.INT64, constant: true });

/** The case for a reduction with `axes` written as its opset wants them (attribute, or an input from 13/18). */
function reduceCase(
  opType: string,
  opset: number,
  shape: number[],
  axes: number[] | undefined,
  extra: Record<string, AttributeValue> = {},
  values?: number[],
): GradientCase {
  const asInput = opType === 'ReduceSum' ? opset >= 13 : opset >= 18;
  const x: Operand = values === undefined ? { shape } : { shape, values };
  if (asInput) return { opType, opset, attributes: extra, inputs: axes === undefined ? [x] : [x, int64(axes)] };
  return { opType, opset, attributes: axes === undefined ? extra : { axes: { ints: axes }, ...extra }, inputs: [x] };
}

const keep0 = { keepdims: { int: 0 } };

// Shapes, axes (undefined: all) and keepdims, each run at the attribute and the input form.
const LAYOUTS: Array<[number[], number[] | undefined, Record<string, AttributeValue>]> = [
  [[2, 3, 4], [1], {}],
  [[2, 3, 4], [-1, 0], keep0],
  [[3, 4], undefined, {}],
  [[2, 3, 2, 2], [1, 3], keep0],
  [[5], [0], keep0],
];

describe.each([
  ['ReduceSum', 11, 13],
  ['ReduceMean', 17, 18],
  ['ReduceMax', 11, 18],
  ['ReduceMin', 13, 18],
  ['ReduceSumSquare', 13, 18],
  ['ReduceL2', 13, 18],
  ['ReduceL1', 13, 18],
  ['ReduceLogSumExp', 13, 18],
  ['ReduceProd', 13, 18],
])('%s', (opType, attributeOpset, inputOpset) => {
  it.each(LAYOUTS)(`%j over %j %j at opset ${attributeOpset} (axes attribute)`, (shape, axes, extra) =>
    checkGradient(reduceCase(opType, attributeOpset, shape, axes, extra)),
  );
  it.each(LAYOUTS)(`%j over %j %j at opset ${inputOpset} (axes input)`, (shape, axes, extra) =>
    checkGradient(reduceCase(opType, inputOpset, shape, axes, extra)),
  );
});

describe('ReduceLogSum', () => {
  const positive = (n: number, seed: number) => Array.from({ length: n }, (_, i) => 0.5 + ((i * 7 + seed) % 11) / 10);
  it.each([
    [13, [2, 3, 4], [1]],
    [18, [2, 3, 4], [0, 2]],
  ])('at opset %i, %j over %j', (opset, shape, axes) =>
    checkGradient(reduceCase('ReduceLogSum', opset, shape, axes, {}, positive(24, opset))),
  );
});

describe('ReduceProd', () => {
  it('is exact where an element is 0', () =>
    checkGradient(reduceCase('ReduceProd', 13, [2, 3], [1], {}, [0.5, 0, -0.7, 0.9, 0.3, -0.4]), 1e-4));
  it('folds int64 shape arithmetic', () => {
    const [y] = evaluateOp({ opType: 'ReduceProd', opset: 13, attributes: keep0, inputs: [] }, [
      constTensor(DataType.INT64, [3], [2, 3, 4]),
    ]);
    expect(y!.dataType).toBe(DataType.INT64);
    expect(y!.dims).toEqual([]);
    expect(Array.from(y!.values)).toEqual([24]);
  });
});

describe('ReduceL2', () => {
  it('gives 0 to a group that is all zeros, and floors the norm with a full literal at opset 7', () =>
    checkGradient(reduceCase('ReduceL2', 7, [3, 2], [1], {}, [0.5, -0.25, 0, 0, 0.75, 1])));
  it('floors the norm with a scalar from opset 8', () =>
    checkGradient(reduceCase('ReduceL2', 8, [3, 2], [0], keep0, [0, -0.25, 0, 0.5, 0, 1])));
});

describe('empty axes', () => {
  it('reduce over every axis by default', () => checkGradient(reduceCase('ReduceSum', 13, [2, 3], [], keep0)));
  it('are the identity with noop_with_empty_axes', () =>
    checkGradient(reduceCase('ReduceMean', 18, [2, 3], undefined, { noop_with_empty_axes: { int: 1 } })));
  it('ReduceMean of int64 truncates, as the reference casts back', () => {
    const [y] = evaluateOp({ opType: 'ReduceMean', opset: 13, attributes: { axes: { ints: [0] } }, inputs: [] }, [
      constTensor(DataType.INT64, [3], [1, 2, 2]),
    ]);
    expect(Array.from(y!.values)).toEqual([1]);
  });
});

/** Our input gradient of one Reduce node over x, for the cotangent ȳ, run by onnxruntime-node. */
async function reduceGradient(
  opType: string,
  x: number[],
  shape: number[],
  attributes: Record<string, AttributeValue>,
  outShape: number[],
  dy: number[],
) {
  const model = onnxModel({
    opset: 13,
    nodes: [
      node('Reshape', ['x', 'x_shape'], ['x_op']),
      node(opType, ['x_op'], ['y'], attributes),
      node('Reshape', ['y', 'y_shape'], ['logits']),
    ],
    initializers: {
      x_shape: { dims: [shape.length], values: shape, dataType: DataType.INT64 },
      y_shape: { dims: [2], values: [1, dy.length], dataType: DataType.INT64 },
    },
    inputs: [valueInfo('x', [1, ...shape])],
    outputs: [valueInfo('logits', [1, dy.length])],
  });
  expect(outShape.reduce((a, b) => a * b, 1)).toBe(dy.length);
  const built = buildGradientModel(model, {
    inputName: 'x',
    inputShape: [1, ...shape],
    outputName: 'logits',
    keepSoftmax: true,
    result: 'gradient',
  });
  const session = await ort.InferenceSession.create(built.bytes);
  try {
    const result = await session.run({
      x: new ort.Tensor('float32', Float32Array.from(x), [1, ...shape]),
      [COTANGENT_INPUT]: new ort.Tensor('float32', Float32Array.from(dy), [1, dy.length]),
    });
    return Array.from(result[GRADIENT_OUTPUT]!.data as Float32Array);
  } finally {
    await session.release();
  }
}

describe('ties', () => {
  // Rows of [2, 4] with ties: the first maximum (minimum) in row-major order takes the whole cotangent.
  const x = [1, 3, 3, 0, 2, 2, 2, 2];
  it('ReduceMax routes to the first maximum along an axis', async () => {
    expect(await reduceGradient('ReduceMax', x, [2, 4], { axes: { ints: [1] } }, [2, 1], [5, 7])).toEqual([0, 5, 0, 0, 7, 0, 0, 0]);
  });
  it('ReduceMin routes to the first minimum along an axis', async () => {
    expect(await reduceGradient('ReduceMin', x, [2, 4], { axes: { ints: [1] } }, [2, 1], [5, 7])).toEqual([0, 0, 0, 5, 7, 0, 0, 0]);
  });
  it('ReduceMax over several axes scans them in row-major order', async () => {
    // [2, 2, 2] over axes [0, 2]: groups j=0: (0,0,0) (0,0,1) (1,0,0) (1,0,1); j=1: likewise with j=1.
    const t = [4, 1, 9, 9, 0, 4, 9, 2];
    expect(await reduceGradient('ReduceMax', t, [2, 2, 2], { axes: { ints: [0, 2] }, keepdims: { int: 0 } }, [2], [5, 7])).toEqual([
      5, 0, 7, 0, 0, 0, 0, 0,
    ]);
  });
});

describe.each(['ArgMax', 'ArgMin'])('%s', (opType) => {
  const x = constTensor(DataType.FLOAT, [2, 3], [1, 5, 5, -2, -2, 0]);
  it.each([
    [0, 1, 0, [1, 3]],
    [1, 1, 0, [2, 1]],
    [-1, 0, 0, [2]],
    [1, 0, 1, [2]],
  ])('axis %i keepdims %i select_last_index %i', async (axis, keepdims, last, shape) => {
    const attributes = { axis: { int: axis }, keepdims: { int: keepdims }, select_last_index: { int: last } };
    const [y] = evaluateOp({ opType, attributes, inputs: [] }, [x]);
    expect(y!.dataType).toBe(DataType.INT64);
    expect(y!.dims).toEqual(shape);
    const model = onnxModel({
      nodes: [node(opType, ['x'], ['y'], attributes)],
      inputs: [valueInfo('x', [2, 3])],
      outputs: [valueInfo('y', y!.dims, DataType.INT64)],
    });
    const session = await ort.InferenceSession.create(toBinary(ModelProtoSchema, model));
    try {
      const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x.values), [2, 3]) });
      expect(Array.from(result['y']!.data as BigInt64Array, Number)).toEqual(Array.from(y!.values));
    } finally {
      await session.release();
    }
  });
});

describe('errors', () => {
  it('axes given as a non-constant input fail clearly', () =>
    expect(
      checkGradient({ opType: 'ReduceSum', opset: 13, inputs: [{ shape: [2, 3] }, { shape: [1], values: [1], dataType: DataType.INT64 }] }),
    ).rejects.toThrow(/must be known when the model is built/));
  it('an out-of-range axis fails', () =>
    expect(checkGradient(reduceCase('ReduceSum', 11, [2, 3], [2]))).rejects.toThrow(/axis 2 is out of range/));
});
