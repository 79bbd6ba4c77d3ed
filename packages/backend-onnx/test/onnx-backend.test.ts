import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { AttributionError, explain, hostTensor, type HostTensor } from '@saliency/core';
import { centralDifferenceGradient, referenceAttribution, referenceMethodNames } from '@saliency/core/reference';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { expectClose, uniformValues } from './helpers/check-gradient.js';
import { mlpFixture } from './helpers/mlp-model.js';
import { node, onnxBytes, valueInfo } from './helpers/onnx-model-builder.js';

const RUNTIMES: Array<[string, OnnxRuntimeModule, object]> = [
  ['onnxruntime-node', ortNode as unknown as OnnxRuntimeModule, {}],
  ['onnxruntime-web (wasm)', ortWeb as unknown as OnnxRuntimeModule, { executionProviders: ['wasm'] }],
];

const x: HostTensor = hostTensor(Float32Array.from(uniformValues(3 * 6, 5, -1.5, 1.5)), [3, 6]);

describe.each(RUNTIMES)('OnnxBackend on %s', (_, ort, sessionOptions) => {
  const { bytes, reference } = mlpFixture();

  it('gives the logits before the softmax and their input gradients', async () => {
    const backend = createOnnxBackend(ort, bytes, { sessionOptions });
    try {
      const logits = await backend.logits(x);
      expect(logits.shape).toEqual([3, 4]);
      const targets = Int32Array.from([0, 3, 2]);
      const gradients = await backend.gradients(x, targets);
      expect(gradients.shape).toEqual([3, 6]);
      for (let b = 0; b < 3; b++) {
        const example = Float64Array.from(x.data.subarray(b * 6, (b + 1) * 6));
        expectClose(logits.data.subarray(b * 4, (b + 1) * 4), reference.logits(example), 1e-5, `logits ${b}`);
        const fd = centralDifferenceGradient(reference.logits, example, targets[b]!);
        expectClose(gradients.data.subarray(b * 6, (b + 1) * 6), fd, 1e-4, `gradient ${b}`);
      }
    } finally {
      await backend.dispose();
    }
  });

  // Guided Backprop, DeconvNet and Grad-CAM: against PyTorch in xai-methods.test.ts.
  it.each(referenceMethodNames())('%s matches the float64 reference', async (method) => {
    const backend = createOnnxBackend(ort, bytes, { sessionOptions });
    try {
      const options = { seed: 3, numSamples: 6, batchSize: 4, steps: 6, target: [1, 0, 3] };
      const map = await explain(backend, method, x, options);
      expectClose(map.data, referenceAttribution(method, reference, x, options), 2e-4, method);
    } finally {
      await backend.dispose();
    }
  });

  it("with softmax: 'keep' differentiates the probabilities", async () => {
    const backend = createOnnxBackend(ort, bytes, { sessionOptions, softmax: 'keep' });
    try {
      const probabilities = (e: Float64Array) => {
        const z = reference.logits(e);
        const m = Math.max(...z);
        const exp = z.map((v) => Math.exp(v - m));
        const total = exp.reduce((a, b) => a + b, 0);
        return exp.map((v) => v / total);
      };
      const gradients = await backend.gradients(x, Int32Array.from([2, 2, 2]));
      for (let b = 0; b < 3; b++) {
        const example = Float64Array.from(x.data.subarray(b * 6, (b + 1) * 6));
        expectClose(gradients.data.subarray(b * 6, (b + 1) * 6), centralDifferenceGradient(probabilities, example, 2), 1e-4, `row ${b}`);
      }
    } finally {
      await backend.dispose();
    }
  });
});

describe.each(RUNTIMES)('a final Sigmoid (a probability head) on %s', (_, ort, sessionOptions) => {
  const { bytes, reference } = mlpFixture({ head: 'Sigmoid' });
  const targets = Int32Array.from([0, 3, 2]);
  const example = (b: number) => Float64Array.from(x.data.subarray(b * 6, (b + 1) * 6));

  it('is left out by default: the logits and their gradients', async () => {
    const backend = createOnnxBackend(ort, bytes, { sessionOptions });
    try {
      const logits = await backend.logits(x);
      const gradients = await backend.gradients(x, targets);
      for (let b = 0; b < 3; b++) {
        expectClose(logits.data.subarray(b * 4, (b + 1) * 4), reference.logits(example(b)), 1e-5, `logits ${b}`);
        expectClose(gradients.data.subarray(b * 6, (b + 1) * 6), reference.gradient!(example(b), targets[b]!), 1e-5, `gradient ${b}`);
      }
    } finally {
      await backend.dispose();
    }
  });

  it("is kept with softmax: 'keep': the probabilities and their gradients", async () => {
    const backend = createOnnxBackend(ort, bytes, { sessionOptions, softmax: 'keep' });
    try {
      const probabilities = (e: Float64Array) => reference.logits(e).map((z) => 1 / (1 + Math.exp(-z)));
      const outputs = await backend.logits(x);
      const gradients = await backend.gradients(x, targets);
      for (let b = 0; b < 3; b++) {
        expectClose(outputs.data.subarray(b * 4, (b + 1) * 4), probabilities(example(b)), 1e-5, `probabilities ${b}`);
        expectClose(
          gradients.data.subarray(b * 6, (b + 1) * 6),
          centralDifferenceGradient(probabilities, example(b), targets[b]!),
          1e-4,
          `gradient ${b}`,
        );
      }
    } finally {
      await backend.dispose();
    }
  });
});

describe('OnnxBackend refuses bad models and inputs clearly', () => {
  const ort = ortNode as unknown as OnnxRuntimeModule;
  const refusal = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return error as AttributionError;
    }
    throw new Error('no error');
  };

  it.each([
    ['empty bytes', new Uint8Array(0), /the ONNX model is empty/],
    ['random bytes', Uint8Array.from(uniformValues(512, 9, 0, 255), Math.floor), /not an ONNX model|no ONNX graph/],
  ])('%s', (_, bytes, message) => {
    const error = refusal(() => createOnnxBackend(ort, bytes));
    expect(error).toBeInstanceOf(AttributionError);
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toMatch(message);
  });

  it('a truncated model', () => {
    const { bytes } = mlpFixture();
    const error = refusal(() => createOnnxBackend(ort, bytes.subarray(0, Math.floor(bytes.length * 0.6))));
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toMatch(/not an ONNX model|protobuf/);
  });

  it('an op without a rule, naming the op, the node and the supported ops', async () => {
    const bytes = onnxBytes({
      nodes: [node('LpNormalization', ['input'], ['output'], {}, 'normalize')],
      inputs: [valueInfo('input', ['batch', 4])],
      outputs: [valueInfo('output', ['batch', 4])],
    });
    const backend = createOnnxBackend(ort, bytes);
    const error = (await backend.gradients(hostTensor(new Float32Array(8), [2, 4]), Int32Array.from([0, 1])).then(
      () => undefined,
      (e: unknown) => e,
    )) as AttributionError;
    expect(error).toBeInstanceOf(AttributionError);
    expect(error.message).toContain('LpNormalization node "normalize"');
    expect(error.message).toMatch(/Supported ops: .*Gemm.*Relu/);
  });

  it('several inputs without inputName, listing them; an unknown outputName', () => {
    const bytes = onnxBytes({
      nodes: [node('Add', ['a', 'b'], ['sum'])],
      inputs: [valueInfo('a', ['batch', 4]), valueInfo('b', ['batch', 4])],
      outputs: [valueInfo('sum', ['batch', 4])],
    });
    expect(refusal(() => createOnnxBackend(ort, bytes)).message).toBe(
      'the model has 2 inputs ("a", "b"); choose one with the inputName option',
    );
    expect(refusal(() => createOnnxBackend(ort, bytes, { inputName: 'a', outputName: 'nope' })).message).toBe(
      'the model has no output "nope"; its outputs are "sum"',
    );
  });

  it('an input of the wrong shape, naming both shapes', async () => {
    const backend = createOnnxBackend(ort, mlpFixture().bytes);
    await expect(explain(backend, 'gradient', hostTensor(new Float32Array(10), [2, 5]))).rejects.toThrow(
      'input "input" of the ONNX model takes shape [?, 6], got [2, 5]',
    );
  });

  it('not an ONNX Runtime module', () => {
    expect(refusal(() => createOnnxBackend({} as OnnxRuntimeModule, mlpFixture().bytes)).message).toMatch(/must be an ONNX Runtime module/);
  });

  it('a call after dispose', async () => {
    const backend = createOnnxBackend(ort, mlpFixture().bytes);
    await backend.dispose();
    await expect(backend.logits(x)).rejects.toThrow(/disposed/);
  });
});
