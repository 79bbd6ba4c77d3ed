import { rejection } from '@saliency/dev-support/rejection';
import { create, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { AttributionError, explain, hostTensor, type HostTensor } from '@saliency/core';
import { centralDifferenceGradient } from '@saliency/core/reference';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { ModelProtoSchema, StringStringEntryProtoSchema } from '../src/proto/onnx_pb.js';
import { expectClose, uniformValues } from './helpers/check-gradient.js';
import { node, onnxBytes, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';
import { thrown } from './helpers/thrown.js';

/*
 * Bad models for an OnnxBackend: what each gets. Calls after dispose, dispose
 * during a run, concurrent calls and aborts: test/conformance.test.ts, as for every backend.
 */

const node_ = ortNode as unknown as OnnxRuntimeModule;

const x: HostTensor = hostTensor(Float32Array.from(uniformValues(3 * 6, 5, -1.5, 1.5)), [3, 6]);

/** The AttributionError `promise` rejects with. */
const rejectionOf = (promise: Promise<unknown>) => rejection(promise, AttributionError);

/** A one-node model importing `opset`. */
function withOpset(opset: number): Uint8Array {
  const model = onnxModel({
    opset,
    nodes: [node('Relu', ['input'], ['output'])],
    inputs: [valueInfo('input', ['batch', 4])],
    outputs: [valueInfo('output', ['batch', 4])],
  });
  return toBinary(ModelProtoSchema, model);
}

describe('models the backend refuses, naming the problem', () => {
  it.each([
    [6, 'the model uses opset 6 of the default ONNX domain; supported are opsets 7 to 22'],
    [23, 'the model uses opset 23 of the default ONNX domain; supported are opsets 7 to 22'],
  ])('an unsupported opset (%i)', (opset, message) => {
    const error = thrown(() => createOnnxBackend(node_, withOpset(opset)));
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toBe(message);
  });

  it('weights in an external data file: refused without the file, the same logits with it', async () => {
    const model = onnxModel({
      nodes: [node('Gemm', ['input', 'w'], ['output'], { transB: { int: 1 } })],
      initializers: { w: { dims: [4, 6], values: uniformValues(24, 77) } },
      inputs: [valueInfo('input', ['batch', 6])],
      outputs: [valueInfo('output', ['batch', 4])],
    });
    const inside = toBinary(ModelProtoSchema, model);
    const weight = model.graph!.initializer[0]!;
    const file = new Uint8Array(16 + weight.rawData.byteLength);
    file.set(weight.rawData, 16);
    weight.rawData = new Uint8Array(0);
    weight.dataLocation = 1;
    weight.externalData = [
      create(StringStringEntryProtoSchema, { key: 'location', value: 'weights.bin' }),
      create(StringStringEntryProtoSchema, { key: 'offset', value: '16' }),
    ];
    const outside = toBinary(ModelProtoSchema, model);

    const error = thrown(() => createOnnxBackend(node_, outside));
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toMatch(
      /^initializer "w" keeps its data in the external file "weights.bin"; pass that file's bytes in the externalData option/,
    );

    const backends = [
      createOnnxBackend(node_, inside),
      createOnnxBackend(node_, outside, { externalData: new Map([['weights.bin', file]]) }),
    ];
    try {
      const [a, b] = await Promise.all(backends.map((backend) => backend.logits(x)));
      expect(b!.data).toEqual(a!.data);
    } finally {
      await Promise.all(backends.map((backend) => backend.dispose()));
    }
  });

  it('several outputs: refused without outputName, listing them; the one named is explained', async () => {
    const w = uniformValues(4 * 6, 3);
    const bytes = onnxBytes({
      nodes: [node('MatMul', ['input', 'w'], ['logits']), node('Tanh', ['logits'], ['squashed'])],
      initializers: { w: { dims: [6, 4], values: w } },
      inputs: [valueInfo('input', ['batch', 6])],
      outputs: [valueInfo('squashed', ['batch', 4]), valueInfo('logits', ['batch', 4])],
    });
    expect(thrown(() => createOnnxBackend(node_, bytes)).message).toBe(
      'the model has 2 outputs ("squashed", "logits"); choose one with the outputName option',
    );
    const backend = createOnnxBackend(node_, bytes, { outputName: 'squashed' });
    try {
      const gradients = await backend.gradients(x, Int32Array.from([0, 1, 2]));
      const squashed = (e: Float64Array) =>
        Float64Array.from({ length: 4 }, (_, k) => Math.tanh(e.reduce((s, v, i) => s + v * w[i * 4 + k]!, 0)));
      for (let b = 0; b < 3; b++) {
        const example = Float64Array.from(x.data.subarray(b * 6, (b + 1) * 6));
        expectClose(gradients.data.subarray(b * 6, (b + 1) * 6), centralDifferenceGradient(squashed, example, b), 1e-4, `row ${b}`);
      }
    } finally {
      await backend.dispose();
    }
  });

  it('an output that is not [B, K]: BACKEND_OUTPUT naming the shape and the option outputPosition', async () => {
    const bytes = onnxBytes({
      nodes: [node('Reshape', ['input', 'shape'], ['output'])],
      initializers: { shape: { dims: [3], values: [-1, 2, 3], dataType: 7 } },
      inputs: [valueInfo('input', ['batch', 6])],
      outputs: [valueInfo('output', ['batch', 2, 3])],
    });
    const backend = createOnnxBackend(node_, bytes);
    const error = await rejectionOf(explain(backend, 'vargrad', x));
    expect(error.code).toBe('BACKEND_OUTPUT');
    expect(error.message).toBe(
      'output "output" has shape [3, 2, 3] for an input of shape [3, 6]; expected logits of shape [3, K] (or [3, K, 1, …], or one score [3]); ' +
        'to explain one position of a sequence or dense output, pass the option outputPosition, e.g. [0, :] as [0,null] (docs/methods.md, "Output position")',
    );
    await backend.dispose();
  });
});
