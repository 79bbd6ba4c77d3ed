import { fromBinary } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildGradientModel, COTANGENT_INPUT, GRADIENT_OUTPUT } from '../src/autodiff/build-gradient-model.js';
import { inferGraph } from '../src/autodiff/infer-graph.js';
import { constTensor } from '../src/model/const-tensor.js';
import { DataType } from '../src/model/data-type.js';
import { sizeOf } from '@saliency/core';
import { ModelProtoSchema } from '../src/proto/onnx_pb.js';
import { evaluateOp, expectClose, uniformValues, type GradientCase } from './helpers/check-gradient.js';
import { node, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';
import { runForward } from './helpers/run-gradient.js';

const int64 = (values: number[]) => ({ shape: [values.length], values, dataType: DataType.INT64, constant: true });
const scalar = (value: number, dataType: DataType) => ({ shape: [], values: [value], dataType, constant: true });

/** Our `evaluate` (and the shape `inferTypes` gives) against ONNX Runtime's output. */
async function checkForward(c: GradientCase): Promise<void> {
  const [actual] = await runForward(c);
  const values = c.inputs.map((o, i) => {
    if (o === null) return undefined;
    return constTensor(o.dataType ?? DataType.FLOAT, o.shape, o.values ?? uniformValues(sizeOf(o.shape), (c.seed ?? 1) * 31 + i));
  });
  expect(Array.from(evaluateOp(c, values)[0]!.values)).toEqual(actual!.map((v) => Math.fround(v)));
}

describe('Shape and Size', () => {
  it.each([
    [13, {}],
    [15, { start: { int: 1 } }],
    [15, { start: { int: -2 }, end: { int: 100 } }],
    [15, { start: { int: 2 }, end: { int: -2 } }],
    [15, { end: { int: -1 } }],
  ])('Shape at opset %i with %j', (opset, attributes) =>
    checkForward({ opType: 'Shape', opset, attributes, inputs: [{ shape: [2, 3, 4, 5] }] }),
  );
  it('Size', () => checkForward({ opType: 'Size', inputs: [{ shape: [2, 3, 4] }] }));
});

describe('Constant', () => {
  const tensor = constTensor(DataType.FLOAT, [2, 2], [1, -2, 3.5, 4]);
  it.each([
    ['value', { value: { tensor } }],
    ['value_float', { value_float: { float: 1.5 } }],
    ['value_floats', { value_floats: { floats: [1.5, -2] } }],
    ['value_int', { value_int: { int: 7 } }],
    ['value_ints', { value_ints: { ints: [3, -1, 4] } }],
  ])('from %s', (_, attributes) => checkForward({ opType: 'Constant', attributes, inputs: [] }));
  it('refuses a string value', () =>
    expect(() => evaluateOp({ opType: 'Constant', attributes: { value_string: { string: 'a' } }, inputs: [] }, [])).toThrow(
      /attribute value_string is not supported; expected one of value, value_float/,
    ));
});

describe('ConstantOfShape and Range', () => {
  it('ConstantOfShape with a float value', () =>
    checkForward({
      opType: 'ConstantOfShape',
      attributes: { value: { tensor: constTensor(DataType.FLOAT, [1], [2.5]) } },
      inputs: [int64([2, 3])],
    }));
  it('ConstantOfShape with an int64 value', () =>
    checkForward({
      opType: 'ConstantOfShape',
      attributes: { value: { tensor: constTensor(DataType.INT64, [1], [4]) } },
      inputs: [int64([3])],
    }));
  it('ConstantOfShape defaults to float zeros', () => checkForward({ opType: 'ConstantOfShape', inputs: [int64([2, 2])] }));
  it.each([
    [0, 5, 1, DataType.INT64],
    [10, 1, -3, DataType.INT64],
    [0.5, 2, 0.25, DataType.FLOAT],
    [3, 1, 1, DataType.INT64],
  ])('Range(%d, %d, %d)', (start, limit, delta, dataType) =>
    checkForward({ opType: 'Range', inputs: [scalar(start, dataType), scalar(limit, dataType), scalar(delta, dataType)] }),
  );
});

/**
 * PyTorch's `x.view(x.size(0), -1)`: Shape → Gather → Unsqueeze → Concat →
 * Reshape, with the Unsqueeze's axes as an attribute before opset 13 and an
 * input from it.
 */
function flattenBatchModel(opset: number) {
  const unsqueeze =
    opset < 13
      ? [node('Unsqueeze', ['n'], ['n1'], { axes: { ints: [0] } })]
      : [node('Constant', [], ['axes'], { value_ints: { ints: [0] } }), node('Unsqueeze', ['n', 'axes'], ['n1'])];
  return onnxModel({
    opset,
    nodes: [
      node('Shape', ['x'], ['s']),
      node('Gather', ['s', 'zero'], ['n'], { axis: { int: 0 } }),
      ...unsqueeze,
      node('Constant', [], ['rest'], { value: { tensor: constTensor(DataType.INT64, [1], [-1]) } }),
      node('Concat', ['n1', 'rest'], ['target'], { axis: { int: 0 } }),
      node('Reshape', ['x', 'target'], ['logits']),
    ],
    initializers: { zero: { dims: [], values: [0], dataType: DataType.INT64 } },
    inputs: [valueInfo('x', ['batch', 3, 4])],
    outputs: [valueInfo('logits', ['batch', 12])],
  });
}

describe('folding shape arithmetic', () => {
  it.each([11, 13, 17])('folds the Reshape target of Shape → Gather → Unsqueeze → Concat at opset %i', (opset) => {
    const model = flattenBatchModel(opset);
    const facts = inferGraph(model.graph!, opset, new Map([['x', [2, 3, 4]]]));
    const target = facts.constants.get('target');
    expect(target?.dataType).toBe(DataType.INT64);
    expect(target?.dims).toEqual([2]);
    expect(Array.from(target!.values)).toEqual([2, -1]);
    expect(facts.types.get('logits')?.shape).toEqual([2, 12]);
    for (const name of ['s', 'n', 'n1']) expect(facts.constants.has(name), name).toBe(true);
  });

  it.each([11, 13, 17])(
    'leaves no shape arithmetic in the gradient model at opset %i, and its gradient is the cotangent',
    async (opset) => {
      const built = buildGradientModel(flattenBatchModel(opset), {
        inputName: 'x',
        inputShape: [2, 3, 4],
        outputName: 'logits',
        keepSoftmax: true,
        result: 'gradient',
      });
      const opTypes = fromBinary(ModelProtoSchema, built.bytes).graph!.node.map((n) => n.opType);
      for (const op of ['Shape', 'Gather', 'Unsqueeze', 'Concat', 'Constant']) expect(opTypes).not.toContain(op);
      const session = await ort.InferenceSession.create(built.bytes);
      try {
        const x = Float32Array.from(uniformValues(24, 1));
        const cotangent = Float32Array.from(uniformValues(24, 2));
        const result = await session.run({
          x: new ort.Tensor('float32', x, [2, 3, 4]),
          [COTANGENT_INPUT]: new ort.Tensor('float32', cotangent, [2, 12]),
        });
        expectClose(result[GRADIENT_OUTPUT]!.data as Float32Array, cotangent, 0, 'gradient');
      } finally {
        await session.release();
      }
    },
  );
});
