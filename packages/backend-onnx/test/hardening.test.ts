import { rejection } from '@saliency/dev-support/rejection';
import { create, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { AttributionError, explain, hostTensor, type HostTensor } from '@saliency/core';
import { centralDifferenceGradient } from '@saliency/core/reference';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { ModelProtoSchema, StringStringEntryProtoSchema } from '../src/proto/onnx_pb.js';
import { expectClose, uniformValues } from './helpers/check-gradient.js';
import { countingOrt } from './helpers/counting-ort.js';
import { mlpFixture } from './helpers/mlp-model.js';
import { node, onnxBytes, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';

/* Bad models and bad use of an OnnxBackend: what each gets, on both ONNX Runtimes where it runs. */

const RUNTIMES: Array<[string, OnnxRuntimeModule, object]> = [
  ['onnxruntime-node', ortNode as unknown as OnnxRuntimeModule, {}],
  ['onnxruntime-web (wasm)', ortWeb as unknown as OnnxRuntimeModule, { executionProviders: ['wasm'] }],
];
const node_ = ortNode as unknown as OnnxRuntimeModule;

const x: HostTensor = hostTensor(Float32Array.from(uniformValues(3 * 6, 5, -1.5, 1.5)), [3, 6]);

function thrown(run: () => unknown): AttributionError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AttributionError);
    return error as AttributionError;
  }
  throw new Error('no error');
}

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
    expect(error.message).toMatch(/^initializer "w" keeps its data in the external file "weights.bin"; pass that file's bytes in the externalData option/);

    const backends = [createOnnxBackend(node_, inside), createOnnxBackend(node_, outside, { externalData: new Map([['weights.bin', file]]) })];
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
      const squashed = (e: Float64Array) => Float64Array.from({ length: 4 }, (_, k) => Math.tanh(e.reduce((s, v, i) => s + v * w[i * 4 + k]!, 0)));
      for (let b = 0; b < 3; b++) {
        const example = Float64Array.from(x.data.subarray(b * 6, (b + 1) * 6));
        expectClose(gradients.data.subarray(b * 6, (b + 1) * 6), centralDifferenceGradient(squashed, example, b), 1e-4, `row ${b}`);
      }
    } finally {
      await backend.dispose();
    }
  });

  it('an output that is not [B, K]: BACKEND_OUTPUT naming the shape', async () => {
    const bytes = onnxBytes({
      nodes: [node('Reshape', ['input', 'shape'], ['output'])],
      initializers: { shape: { dims: [3], values: [-1, 2, 3], dataType: 7 } },
      inputs: [valueInfo('input', ['batch', 6])],
      outputs: [valueInfo('output', ['batch', 2, 3])],
    });
    const backend = createOnnxBackend(node_, bytes);
    const error = await rejectionOf(explain(backend, 'vargrad', x));
    expect(error.code).toBe('BACKEND_OUTPUT');
    expect(error.message).toBe('output "output" has shape [3, 2, 3] for an input of shape [3, 6]; expected logits of shape [3, K] (or [3, K, 1, …], or one score [3])');
    await backend.dispose();
  });
});

describe.each(RUNTIMES)('use of one backend on %s', (_, ort, sessionOptions) => {
  const { bytes, reference } = mlpFixture();

  it('calls after dispose: DISPOSED for every call and for explain', async () => {
    const backend = createOnnxBackend(ort, bytes, { sessionOptions });
    await backend.logits(x);
    await backend.dispose();
    for (const call of [
      backend.logits(x),
      backend.gradients(x, Int32Array.from([0, 1, 2])),
      backend.gradientMoments(x, Int32Array.from([0, 1, 2]), 3),
      explain(backend, 'vargrad', x),
    ]) {
      const error = await rejectionOf(call);
      expect(error.code).toBe('DISPOSED');
      expect(error.message).toMatch(/^onnx-.*: the backend was disposed$/);
    }
  });

  it('dispose during a run: the call in progress finishes, later ones are refused, every session is released', async () => {
    const counting = countingOrt(ort);
    const backend = createOnnxBackend(counting.module, bytes, { sessionOptions });
    let disposing: Promise<void> | undefined;
    const run = explain(backend, 'vargrad', x, {
      numSamples: 8,
      batchSize: 8,
      onProgress: () => {
        disposing ??= backend.dispose();
      },
    });
    const error = await rejectionOf(run);
    expect(error.code).toBe('DISPOSED');
    await disposing;
    expect(counting.created()).toBeGreaterThan(0);
    expect(counting.open()).toBe(0);
  });

  it('concurrent explain calls give what sequential calls give', async () => {
    const backend = createOnnxBackend(ort, bytes, { sessionOptions });
    try {
      const inputs = [x, hostTensor(Float32Array.from(uniformValues(2 * 6, 8, -1, 1)), [2, 6]), hostTensor(Float32Array.from(uniformValues(3 * 6, 9, -1, 1)), [3, 6])];
      const methods = ['vargrad', 'smoothgrad_x_input', 'integrated_gradients', 'gradient'];
      const options = { numSamples: 6, steps: 6, batchSize: 4, seed: 5 };
      const jobs = methods.flatMap((method) => inputs.map((input) => ({ method, input })));
      const sequential: HostTensor[] = [];
      for (const { method, input } of jobs) sequential.push(await explain(backend, method, input, options));
      const concurrent = await Promise.all(jobs.map(({ method, input }) => explain(backend, method, input, options)));
      concurrent.forEach((map, i) => expect(map.data, `${jobs[i]!.method} on input ${i % 3}`).toEqual(sequential[i]!.data));
      // And the plain gradients are right, not merely the same.
      const gradients = concurrent[methods.indexOf('gradient') * 3]!;
      for (let b = 0; b < 3; b++) {
        const example = Float64Array.from(x.data.subarray(b * 6, (b + 1) * 6));
        const logits = reference.logits(example);
        const target = logits.indexOf(Math.max(...logits));
        expectClose(gradients.data.subarray(b * 6, (b + 1) * 6), centralDifferenceGradient(reference.logits, example, target), 1e-4, `row ${b}`);
      }
    } finally {
      await backend.dispose();
    }
  });

  it('an AbortSignal stops a long run between calls; no session is left open after dispose', async () => {
    const counting = countingOrt(ort);
    const backend = createOnnxBackend(counting.module, bytes, { sessionOptions });
    const controller = new AbortController();
    let calls = 0;
    const error = await rejectionOf(
      explain(backend, 'vargrad', x, {
        numSamples: 4096,
        batchSize: 64,
        signal: controller.signal,
        onProgress: () => {
          if (++calls === 3) controller.abort(new Error('took too long'));
        },
      }),
    );
    expect(error.code).toBe('ABORTED');
    expect(error.message).toBe('the run was aborted after 192 of 12288 model rows: took too long');
    expect(calls).toBe(3);
    // Only the cached sessions of the two shapes used (forward, moments) are open, and the backend still works.
    expect(counting.open()).toBe(2);
    const again = await explain(backend, 'vargrad', x, { numSamples: 4, target: [0, 1, 2] });
    expect(again.shape).toEqual([3, 6]);
    await backend.dispose();
    expect(counting.open()).toBe(0);
  });
});
