import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { AttributionError, explain, hostTensor } from '@saliency/core';
import {
  createOnnxBackend,
  exportAttributionModel,
  LOGITS_OUTPUT,
  MAP_OUTPUT,
  NOISE_INPUT,
  TARGET_INPUT,
  type OnnxRuntimeModule,
} from '../src/index.js';
import { DataType } from '../src/model/data-type.js';
import { expectClose } from './helpers/check-gradient.js';
import { node, onnxBytes, valueInfo } from './helpers/onnx-model-builder.js';
import { runExported, seededNoiseTensor, type Runtime } from './helpers/export-fixtures.js';
import { thrown } from './helpers/thrown.js';
import { gradientTolerance, REFERENCE_TOLERANCE, type VarGradReference } from './helpers/vargrad-reference.js';

/*
 * Models whose graph fixes the batch size (passes/fixed-batch.ts). The
 * PyTorch-exported ones (a CNN with x.view(1, -1), rewritten; the same with a
 * MatMul on the flattened vector, run one row per call with one warning) are
 * checked against PyTorch in shipped-models.test.ts; here, hand-built graphs
 * for what those cannot show: a batch fixed at 2 with the whole batch
 * flattened into one vector, which only runs 2 rows at a time, and the
 * refusal of a call of another number of rows.
 */

const ort = ortNode as unknown as OnnxRuntimeModule;
// logits = reshape(flatten(x) · W, [2, 3]) for x [2, 4]: row b's logits mix both rows, so no rewrite can free the batch.
const W = Array.from({ length: 8 * 6 }, (_, i) => Math.sin(i + 1));
const batchOfTwo = onnxBytes({
  nodes: [
    node('Reshape', ['input', 'flat_shape'], ['flat']),
    node('MatMul', ['flat', 'w'], ['mixed']),
    node('Reshape', ['mixed', 'out_shape'], ['logits'], {}, 'to_rows'),
  ],
  initializers: {
    flat_shape: { dims: [1], values: [-1], dataType: DataType.INT64 },
    w: { dims: [8, 6], values: W },
    out_shape: { dims: [2], values: [2, 3], dataType: DataType.INT64 },
  },
  inputs: [valueInfo('input', [2, 4])],
  outputs: [valueInfo('logits', [2, 3])],
});

/** float64 logits of the model for the 2 rows starting at `row`. */
function expectedLogits(x: Float32Array, row: number): number[] {
  const flat = x.subarray(row * 4, row * 4 + 8);
  return Array.from({ length: 6 }, (_, j) => flat.reduce((sum, v, i) => sum + v * W[i * 6 + j]!, 0));
}

describe('a model whose batch is fixed at 2', () => {
  const x = Float32Array.from({ length: 16 }, (_, i) => Math.cos(3 * i));

  it('runs 2 rows at a time: 4 rows are two runs, each its own function', async () => {
    const warnings: string[] = [];
    const backend = createOnnxBackend(ort, batchOfTwo, { onWarning: (m) => warnings.push(m) });
    try {
      const logits = await backend.logits(hostTensor(x, [4, 4]));
      expectClose(logits.data, [...expectedLogits(x, 0), ...expectedLogits(x, 2)], 1e-6, 'logits');
      // One run's cotangent is its rows' one-hot targets together: the gradient of their sum, which mixes the run's rows and no other run's.
      const gradient = await backend.gradients(hostTensor(x, [4, 4]), Int32Array.of(1, 0, 2, 0));
      const expected = new Array<number>(16).fill(0);
      const targets = [1, 0, 2, 0];
      for (let run = 0; run < 2; run++)
        for (let r = 0; r < 2; r++) for (let i = 0; i < 8; i++) expected[run * 8 + i]! += W[i * 6 + r * 3 + targets[run * 2 + r]!]!;
      expectClose(gradient.data, expected, 1e-6, 'gradient');
      expect(warnings).toEqual([]);
    } finally {
      await backend.dispose();
    }
  });

  it('refuses a call of another number of rows, saying that the model fixes its batch size', async () => {
    const backend = createOnnxBackend(ort, batchOfTwo);
    try {
      const error = await explain(backend, 'vargrad', hostTensor(x.subarray(0, 12), [3, 4]), { numSamples: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AttributionError);
      expect((error as AttributionError).code).toBe('INVALID_SHAPE');
      expect((error as Error).message).toMatch(
        /the model fixes its batch size at 2 \(input "input"; at another batch size: .*MatMul.*\).*this call has 3 rows/,
      );
    } finally {
      await backend.dispose();
    }
  });
});

it('onWarning must be a function', () => {
  const error = thrown(() => createOnnxBackend(ort, batchOfTwo, { onWarning: 'console' as unknown as () => void }));
  expect(error.code).toBe('INVALID_OPTION');
  expect(error.message).toMatch(/option onWarning must be a function, got string/);
});

describe('exportAttributionModel of the shipped CNN exported with its batch fixed at 1 (x.view(1, -1))', () => {
  const shipped = new URL('./fixtures/shipped/', import.meta.url);
  const reference = JSON.parse(readFileSync(new URL('cnn_batch1.json', shipped), 'utf8')) as VarGradReference & {
    input: number[];
    logits: number[];
    gradient: number[];
    noise: { numSamples: number; sigma: number; seed: number };
  };
  const bytes = (file: string) => readFileSync(new URL(`models/${file}`, shipped));
  const shape = reference.inputShape;
  const x = Float32Array.from(reference.input);

  it('exports for a batch of 2 (the Reshape rewritten): the gradient within 1e-4 of PyTorch autograd in float64', async () => {
    const exported = exportAttributionModel(bytes('cnn_batch1.onnx'), { method: 'gradient', inputShape: shape, targetSource: 'input' });
    expect(exported.inputs[0]!.shape).toEqual(shape);
    const outputs = await runExported(ort as unknown as Runtime, exported, {
      input: x,
      [TARGET_INPUT]: BigInt64Array.from(reference.targets, BigInt),
    });
    expectClose(outputs[LOGITS_OUTPUT]!.data as Float32Array, reference.logits, REFERENCE_TOLERANCE, 'logits');
    expectClose(outputs[MAP_OUTPUT]!.data as Float32Array, reference.gradient, gradientTolerance(reference), 'gradient');
  });

  it("exports VarGrad over 2 examples × 4 samples in one graph: the library's map on the same noise", async () => {
    const { numSamples, sigma, seed } = reference.noise;
    const file = bytes('cnn_batch1.onnx');
    const exported = exportAttributionModel(file, { method: 'vargrad', inputShape: shape, numSamples, targetSource: 'input' });
    const outputs = await runExported(ort as unknown as Runtime, exported, {
      input: x,
      [NOISE_INPUT]: seededNoiseTensor(shape, numSamples, seed, sigma),
      [TARGET_INPUT]: BigInt64Array.from(reference.targets, BigInt),
    });
    const backend = createOnnxBackend(ort, file);
    try {
      const library = await explain(backend, 'vargrad', hostTensor(x, shape), {
        target: reference.targets,
        numSamples,
        noiseScale: sigma,
        seed,
      });
      expectClose(outputs[MAP_OUTPUT]!.data as Float32Array, library.data, 1e-5, 'vargrad');
    } finally {
      await backend.dispose();
    }
  });

  it('refuses, before building anything, a noisy method on the variant whose batch no rewrite frees', () => {
    const error = thrown(() => exportAttributionModel(bytes('cnn_batch1_flat.onnx'), { method: 'vargrad', numSamples: 4 }));
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toMatch(
      /fixes its batch size at 1 \(input "input"; at another batch size: .*MatMul.*\), and the exported vargrad runs 4 rows/,
    );
    expect(error.message).toContain('export the model with a dynamic batch axis');
  });
});
