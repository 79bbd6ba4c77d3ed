import { create, toBinary } from '@bufbuild/protobuf';
import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { AttributionError, hostTensor } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { DataType } from '../src/model/data-type.js';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  type NodeProto,
} from '../src/proto/onnx_pb.js';
import { expectClose } from './helpers/check-gradient.js';
import { node, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';

/*
 * If nodes decided when the graphs are built (src/autodiff/branches.ts): on a
 * scalar feed, on the input's shape, nested; and refused where the condition
 * is the input's values. The model: y = (x ⊙ w_b) · W with branch b chosen by
 * `mode == 2` (w₂, else w₃), then, inside the chosen branch, by whether x has
 * 4 columns (so always); reference: the float64 product and its gradient
 * w_b ⊙ W[:, t], and ONNX Runtime's run of the model.
 */

const ort = ortNode as unknown as OnnxRuntimeModule;
const W2 = [0.5, -1, 2, 0.25];
const W3 = [-0.75, 1.5, 0.1, 3];
const W = [0.2, -0.4, 1, 0.3, 0.6, -0.9, -1.1, 0.7, 0.05, 0.8, -0.2, 0.4]; // [4, 3]

/** An If node with its two branches, each a graph of `nodes` returning `output`. */
function ifNode(
  condition: string,
  output: string,
  then: readonly NodeProto[],
  otherwise: readonly NodeProto[],
  thenOut: string,
  elseOut: string,
): NodeProto {
  const branch = (name: string, nodes: readonly NodeProto[], out: string) =>
    create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.GRAPH,
      g: create(GraphProtoSchema, { name, node: [...nodes], output: [valueInfo(out, ['batch', 4])] }),
    });
  const n = node('If', [condition], [output], {}, `choose ${output}`);
  n.attribute.push(branch('then_branch', then, thenOut), branch('else_branch', otherwise, elseOut));
  return n;
}

function branchingModel(condition: 'mode' | 'values'): Uint8Array {
  const byShape = (scale: string, out: string) =>
    ifNode(
      `${out}/has4`,
      out,
      [node('Mul', ['x', scale], [`${out}/scaled`])],
      [node('Identity', ['x'], [`${out}/unscaled`])],
      `${out}/scaled`,
      `${out}/unscaled`,
    );
  const columns = (out: string) => [
    node('Shape', ['x'], [`${out}/shape`]),
    node('Gather', [`${out}/shape`, 'one'], [`${out}/columns`], { axis: { int: 0 } }),
    node('Equal', [`${out}/columns`, 'four'], [`${out}/has4`]),
  ];
  const decide =
    condition === 'mode'
      ? [node('Equal', ['mode', 'two'], ['is2'])]
      : [node('ReduceSum', ['x'], ['total'], { keepdims: { int: 0 } }), node('Greater', ['total', 'zero'], ['is2'])];
  const model = onnxModel({
    nodes: [
      ...decide,
      ifNode('is2', 'y', [...columns('y2'), byShape('w2', 'y2')], [...columns('y3'), byShape('w3', 'y3')], 'y2', 'y3'),
      node('MatMul', ['y', 'W'], ['logits']),
    ],
    initializers: {
      w2: { dims: [4], values: W2 },
      w3: { dims: [4], values: W3 },
      W: { dims: [4, 3], values: W },
      two: { dims: [], values: [2], dataType: DataType.INT64 },
      one: { dims: [], values: [1], dataType: DataType.INT64 },
      four: { dims: [], values: [4], dataType: DataType.INT64 },
      zero: { dims: [], values: [0] },
    },
    inputs: [valueInfo('x', ['batch', 4]), ...(condition === 'mode' ? [valueInfo('mode', [], DataType.INT64)] : [])],
    outputs: [valueInfo('logits', ['batch', 3])],
    opset: 17,
  });
  return toBinary(ModelProtoSchema, model);
}

const X = [0.3, -1.2, 0.8, 2.1, -0.5, 0.4, 1.6, -0.9]; // [2, 4]

describe('If nodes', () => {
  it.each([2, 3])('take the branch a scalar feed chooses (mode %i), and the one the shape chooses inside it', async (mode) => {
    const bytes = branchingModel('mode');
    const backend = createOnnxBackend(ort, bytes, {
      inputName: 'x',
      feeds: { mode: { data: new BigInt64Array([BigInt(mode)]), shape: [] } },
    });
    const session = await ortNode.InferenceSession.create(bytes);
    try {
      const w = mode === 2 ? W2 : W3;
      const expected = [0, 1].flatMap((b) =>
        [0, 1, 2].map((k) => [0, 1, 2, 3].reduce((s, i) => s + X[b * 4 + i]! * w[i]! * W[i * 3 + k]!, 0)),
      );
      const x = hostTensor(Float32Array.from(X), [2, 4]);
      expectClose((await backend.logits(x)).data, expected, 1e-6, 'logits against float64');
      const run = await session.run({
        x: new ortNode.Tensor('float32', Float32Array.from(X), [2, 4]),
        mode: new ortNode.Tensor('int64', new BigInt64Array([BigInt(mode)]), []),
      });
      expectClose((await backend.logits(x)).data, run.logits!.data as Float32Array, 1e-6, 'logits against ONNX Runtime');
      const targets = Int32Array.from([2, 0]);
      const gradient = [0, 1].flatMap((b) => [0, 1, 2, 3].map((i) => w[i]! * W[i * 3 + targets[b]!]!));
      expectClose((await backend.gradients(x, targets)).data, gradient, 1e-6, 'gradient against w ⊙ W[:, t]');
    } finally {
      await session.release();
      await backend.dispose();
    }
  });

  it("refuses an If on the input's values, naming the node and why", async () => {
    const backend = createOnnxBackend(ort, branchingModel('values'), { inputName: 'x' });
    try {
      const error = await backend.gradients(hostTensor(Float32Array.from(X), [2, 4]), Int32Array.from([0, 0])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AttributionError);
      expect((error as AttributionError).code).toBe('UNSUPPORTED_MODEL');
      expect((error as AttributionError).message).toMatch(
        /If node "choose y": its condition "is2" depends on values known only when the model runs/,
      );
    } finally {
      await backend.dispose();
    }
  });
});
