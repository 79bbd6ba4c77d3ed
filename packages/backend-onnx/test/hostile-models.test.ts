import { create, toBinary } from '@bufbuild/protobuf';
import { rejection } from '@saliency/dev-support/rejection';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { AttributionError, hostTensor } from '@saliency/core';
import { createOnnxBackend, DEFAULT_BUDGETS, type OnnxRuntimeModule } from '../src/index.js';
import { DataType } from '../src/model/data-type.js';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  type ModelProto,
} from '../src/proto/onnx_pb.js';
import { uniformValues } from './helpers/check-gradient.js';
import { node, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';
// @ts-expect-error: a plain .mjs script without types
import { hostileModels } from '../scripts/make-hostile-models.mjs';
import { thrown } from './helpers/thrown.js';

/* Untrusted model files (docs/bad-inputs.md, "Hostile models"): each refused with a coded error before the allocation it asks for. */

const ort = ortNode as unknown as OnnxRuntimeModule;

const rejectionOf = (promise: Promise<unknown>) => rejection(promise, AttributionError);

/** A Gemm model over `w` [4, 6] whose initializer is then changed by `spoil`. */
function gemmWith(spoil: (model: ModelProto) => void): Uint8Array {
  const model = onnxModel({
    nodes: [node('Gemm', ['input', 'w'], ['output'], { transB: { int: 1 } })],
    initializers: { w: { dims: [4, 6], values: uniformValues(24, 7) } },
    inputs: [valueInfo('input', ['batch', 6])],
    outputs: [valueInfo('output', ['batch', 4])],
  });
  spoil(model);
  return toBinary(ModelProtoSchema, model);
}

describe('the two files of the issue', () => {
  const files = hostileModels() as Record<string, { bytes: Uint8Array; exampleShape: number[] }>;

  it('dims 100000 × 100000 over 4 bytes: INVALID_MODEL when the backend is created, naming the tensor and both sizes', () => {
    const error = thrown(() => createOnnxBackend(ort, files['huge-initializer.onnx']!.bytes));
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toBe(
      'initializer: tensor "w" declares 10,000,000,000 float32 values (shape [100000, 100000]), 40,000,000,000 bytes, but holds 4 bytes of data',
    );
  });

  it('ConstantOfShape [1, 2000000000] on the explained path: MODEL_TOO_LARGE at the first call, naming the node, the shape and the budget', async () => {
    const backend = createOnnxBackend(ort, files['huge-constant.onnx']!.bytes);
    try {
      const error = await rejectionOf(backend.gradients(hostTensor(new Float32Array(1), [1, 1]), Int32Array.from([0])));
      expect(error.code).toBe('MODEL_TOO_LARGE');
      expect(error.message).toMatch(
        /^ConstantOfShape node "huge_constant": folding a constant of shape \[1, 2000000000\] would hold 2,000,000,000 elements, over the budget maxFoldedElements = 4,194,304; raise it with the budgets option/,
      );
    } finally {
      await backend.dispose();
    }
  });
});

describe('tensors checked against their data', () => {
  it.each([
    [
      'a negative dimension',
      (m: ModelProto) => (m.graph!.initializer[0]!.dims[1] = -6n),
      /tensor "w" declares dimension 1 as -6; a dimension is an integer ≥ 0/,
    ],
    [
      'raw data one byte short',
      (m: ModelProto) => (m.graph!.initializer[0]!.rawData = m.graph!.initializer[0]!.rawData.slice(0, 95)),
      /tensor "w" declares 24 float32 values \(shape \[4, 6\]\), 96 bytes, but holds 95 bytes of data/,
    ],
    [
      'float_data of the wrong length',
      (m: ModelProto) => Object.assign(m.graph!.initializer[0]!, { rawData: new Uint8Array(0), floatData: [1, 2, 3] }),
      /tensor "w" declares 24 float32 values \(shape \[4, 6\]\) but holds 3 values in floatData/,
    ],
    [
      'int64 dims past 2^53',
      (m: ModelProto) => (m.graph!.initializer[0]!.dims = [2n ** 40n, 2n ** 40n]),
      /tensor "w" declares shape \[1099511627776, 1099511627776\], whose element count is past 2\^53/,
    ],
    [
      'an element type that ONNX does not have',
      (m: ModelProto) => (m.graph!.initializer[0]!.dataType = 99),
      /tensor "w" declares element type 99, which is not an ONNX element type/,
    ],
  ])('%s: INVALID_MODEL when the backend is created', (_, spoil, message) => {
    const error = thrown(() => createOnnxBackend(ort, gemmWith(spoil)));
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toMatch(message);
  });

  it("a Constant node's tensor with int64_data of the wrong length: INVALID_MODEL naming the node and attribute", () => {
    const model = onnxModel({
      nodes: [node('Constant', [], ['shape'], {}, 'target_shape'), node('Reshape', ['input', 'shape'], ['output'])],
      inputs: [valueInfo('input', ['batch', 6])],
      outputs: [valueInfo('output', ['batch', 6])],
    });
    const value = create(TensorProtoSchema, { dims: [2n], dataType: DataType.INT64, int64Data: [1n, 2n, 3n, 4n, 5n] });
    model.graph!.node[0]!.attribute.push(
      create(AttributeProtoSchema, { name: 'value', type: AttributeProto_AttributeType.TENSOR, t: value }),
    );
    const error = thrown(() => createOnnxBackend(ort, toBinary(ModelProtoSchema, model)));
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toBe(
      'Constant node "target_shape", attribute value: tensor "" declares 2 int64 values (shape [2]) but holds 5 values in int64Data',
    );
  });

  it.each([
    [
      'an offset past the end of the file',
      { offset: '90' },
      /^initializer "w": external data at offset 90 of length 96 ends past the end of "weights.bin", which holds 96 bytes$/,
    ],
    [
      'a length past the end of the file',
      { offset: '0', length: '1000000000000' },
      /external data at offset 0 of length 1000000000000 ends past the end of "weights.bin", which holds 96 bytes/,
    ],
    ['an offset that is not an integer', { offset: '-4' }, /initializer "w": external data offset "-4" is not an integer ≥ 0/],
  ])('external data with %s: INVALID_MODEL', (_, entries, message) => {
    const bytes = gemmWith((m) => {
      const w = m.graph!.initializer[0]!;
      w.rawData = new Uint8Array(0);
      w.dataLocation = 1;
      w.externalData = Object.entries({ location: 'weights.bin', length: '96', ...entries }).map(([key, value]) =>
        create(StringStringEntryProtoSchema, { key, value }),
      );
    });
    const error = thrown(() => createOnnxBackend(ort, bytes, { externalData: new Map([['weights.bin', new Uint8Array(96)]]) }));
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toMatch(message);
  });
});

describe('budgets', () => {
  it('too many nodes, and subgraphs nested too deep: MODEL_TOO_LARGE when the backend is created', () => {
    const relus = onnxModel({
      nodes: ['a', 'b', 'c', 'd', 'output'].map((name, i) => node('Relu', [i === 0 ? 'input' : ['a', 'b', 'c', 'd'][i - 1]!], [name])),
      inputs: [valueInfo('input', ['batch', 6])],
      outputs: [valueInfo('output', ['batch', 6])],
    });
    const tooMany = thrown(() => createOnnxBackend(ort, toBinary(ModelProtoSchema, relus), { budgets: { maxNodes: 4 } }));
    expect(tooMany.code).toBe('MODEL_TOO_LARGE');
    expect(tooMany.message).toMatch(/^the main graph: the model has more than 5 nodes, over the budget maxNodes = 4/);

    // If nodes whose then_branch holds another If, three levels deep.
    let inner = create(GraphProtoSchema, { name: 'leaf' });
    for (let depth = 0; depth < 3; depth++) {
      const nested = node('If', ['cond'], ['y'], {}, `if${depth}`);
      nested.attribute.push(create(AttributeProtoSchema, { name: 'then_branch', type: AttributeProto_AttributeType.GRAPH, g: inner }));
      inner = create(GraphProtoSchema, { name: `level${depth}`, node: [nested] });
    }
    const model = onnxModel({
      nodes: [node('Relu', ['input'], ['output'])],
      inputs: [valueInfo('input', ['batch', 6])],
      outputs: [valueInfo('output', ['batch', 6])],
    });
    model.graph!.node.push(...inner.node);
    const deep = thrown(() => createOnnxBackend(ort, toBinary(ModelProtoSchema, model), { budgets: { maxSubgraphDepth: 2 } }));
    expect(deep.code).toBe('MODEL_TOO_LARGE');
    expect(deep.message).toMatch(
      /^the subgraph of If node "if0" \(in the subgraph of If node "if1" \(in the subgraph of If node "if2", attribute then_branch\), attribute then_branch\), attribute then_branch: a subgraph nested 3 levels deep, over the budget maxSubgraphDepth = 2/,
    );
  });

  it('folded constants over maxFoldedBytes, and a Range of 2⁴⁰ values: MODEL_TOO_LARGE at the first call', async () => {
    const shape = { dims: [1], values: [1000], dataType: DataType.INT64 };
    const twoConstants = onnxModel({
      nodes: [
        node('ConstantOfShape', ['n'], ['zeros'], {}, 'first'),
        node('ConstantOfShape', ['n'], ['more_zeros'], {}, 'second'),
        node('Add', ['input', 'zeros'], ['sum']),
        node('Add', ['sum', 'more_zeros'], ['output']),
      ],
      initializers: { n: shape },
      inputs: [valueInfo('input', ['batch', 1000])],
      outputs: [valueInfo('output', ['batch', 1000])],
    });
    const backend = createOnnxBackend(ort, toBinary(ModelProtoSchema, twoConstants), { budgets: { maxFoldedBytes: 12_000 } });
    const range = onnxModel({
      nodes: [node('Range', ['start', 'limit', 'delta'], ['r'], {}, 'counter'), node('Add', ['input', 'r'], ['output'])],
      initializers: {
        start: { dims: [], values: [0], dataType: DataType.FLOAT },
        limit: { dims: [], values: [2 ** 40], dataType: DataType.FLOAT },
        delta: { dims: [], values: [1], dataType: DataType.FLOAT },
      },
      inputs: [valueInfo('input', ['batch', 1])],
      outputs: [valueInfo('output', ['batch', 2 ** 40])],
    });
    const ranged = createOnnxBackend(ort, toBinary(ModelProtoSchema, range));
    try {
      const error = await rejectionOf(backend.gradients(hostTensor(new Float32Array(1000), [1, 1000]), Int32Array.from([0])));
      expect(error.code).toBe('MODEL_TOO_LARGE');
      expect(error.message).toMatch(
        /^ConstantOfShape node "second": folding a constant of shape \[1000\] \(8,000 bytes\) after 8,000 bytes of folded constants, over the budget maxFoldedBytes = 12,000/,
      );
      const huge = await rejectionOf(ranged.gradients(hostTensor(new Float32Array(1), [1, 1]), Int32Array.from([0])));
      expect(huge.code).toBe('MODEL_TOO_LARGE');
      expect(huge.message).toMatch(
        /^Range node "counter": folding a constant of shape \[1099511627776\] would hold 1,099,511,627,776 elements, over the budget maxFoldedElements/,
      );
    } finally {
      await Promise.all([backend.dispose(), ranged.dispose()]);
    }
  });

  it('maxActivationElements: a call over it runs as several runs that fit, with the same gradients; one row over it is refused', async () => {
    // MatMul [R, 64] · [64, 512]: the largest value is R × 512 elements, so a budget of 3 × 512 takes 3 rows a run.
    const w = uniformValues(64 * 512, 11);
    const bytes = toBinary(
      ModelProtoSchema,
      onnxModel({
        nodes: [node('MatMul', ['input', 'w'], ['output'], {}, 'wide')],
        initializers: { w: { dims: [64, 512], values: w } },
        inputs: [valueInfo('input', ['batch', 64])],
        outputs: [valueInfo('output', ['batch', 512])],
      }),
    );
    const calls: number[] = [];
    const counting: OnnxRuntimeModule = {
      ...ort,
      InferenceSession: {
        create: async (...args: Parameters<typeof ort.InferenceSession.create>) => {
          const session = await ort.InferenceSession.create(...args);
          return new Proxy(session, {
            get: (target, key) =>
              key === 'run'
                ? (feeds: Record<string, { dims: readonly number[] }>) => {
                    calls.push(feeds.input!.dims[0]!);
                    return target.run(feeds as never);
                  }
                : Reflect.get(target, key),
          });
        },
      },
    } as unknown as OnnxRuntimeModule;
    const backend = createOnnxBackend(counting, bytes, { budgets: { maxActivationElements: 3 * 512 } });
    try {
      const x = hostTensor(Float32Array.from(uniformValues(8 * 64, 5)), [8, 64]);
      const targets = Int32Array.from([0, 5, 17, 511, 3, 3, 100, 250]);
      const gradients = await backend.gradients(x, targets);
      expect(calls).toEqual([3, 3, 2]);
      // The gradient of logit t of x·W is column t of W, for every row.
      targets.forEach((t, row) => {
        const column = Float32Array.from({ length: 64 }, (_, i) => w[i * 512 + t]!);
        expect(Array.from(gradients.data.subarray(row * 64, (row + 1) * 64))).toEqual(Array.from(column));
      });
    } finally {
      await backend.dispose();
    }
    const small = createOnnxBackend(ort, bytes, { budgets: { maxActivationElements: 500 } });
    try {
      const error = await rejectionOf(small.gradients(hostTensor(new Float32Array(64), [1, 64]), Int32Array.from([0])));
      expect(error.code).toBe('MODEL_TOO_LARGE');
      expect(error.message).toMatch(
        /^MatMul node "wide", output 0 "output" \(for one row of an input of shape \[1, 64\]\): a value of shape \[1, 512\] \(512 elements\) for this call, over the budget maxActivationElements = 500/,
      );
    } finally {
      await small.dispose();
    }
  });

  it('budgets that are not positive integers, or not budgets: INVALID_OPTION', () => {
    const bytes = gemmWith(() => {});
    expect(thrown(() => createOnnxBackend(ort, bytes, { budgets: { maxNodes: 0 } })).message).toBe(
      'createOnnxBackend: budgets.maxNodes must be an integer ≥ 1 or Infinity, got 0',
    );
    expect(thrown(() => createOnnxBackend(ort, bytes, { budgets: { maxTensorSize: 5 } as never })).code).toBe('INVALID_OPTION');
    expect(Object.keys(DEFAULT_BUDGETS)).toEqual([
      'maxFoldedElements',
      'maxFoldedBytes',
      'maxActivationElements',
      'maxNodes',
      'maxSubgraphDepth',
    ]);
  });
});
