import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { hostTensor, type HostTensor } from '@saliency/core';
import { centralDifferenceGradient } from '@saliency/core/reference';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { DataType } from '../src/model/data-type.js';
import { expectClose, uniformValues } from './helpers/check-gradient.js';
import { node, onnxBytes, valueInfo } from './helpers/onnx-model-builder.js';

/* Which outputs are explained, and which nodes need a rule: only those on the path to the explained output. */

const ort = ortNode as unknown as OnnxRuntimeModule;
const rows = 3;
const x: HostTensor = hostTensor(Float32Array.from(uniformValues(rows * 6, 5, -1.5, 1.5)), [rows, 6]);
const w = uniformValues(6 * 4, 8);

/** tanh(x·W) in float64 for one example: the logits every model here computes, in some shape. */
const logits = (k: number) => (e: Float64Array) =>
  Float64Array.from({ length: k }, (_, j) => Math.tanh(e.reduce((s, v, i) => s + v * w[i * 4 + j]!, 0)));

/** The model's gradients for `targets` against central differences of `reference`. */
async function expectGradients(bytes: Uint8Array, targets: number[], reference: (e: Float64Array) => Float64Array, options = {}) {
  const backend = createOnnxBackend(ort, bytes, options);
  try {
    const gradients = await backend.gradients(x, Int32Array.from(targets));
    for (let b = 0; b < rows; b++) {
      const example = Float64Array.from(x.data.subarray(b * 6, (b + 1) * 6));
      expectClose(
        gradients.data.subarray(b * 6, (b + 1) * 6),
        centralDifferenceGradient(reference, example, targets[b]!),
        1e-4,
        `row ${b}`,
      );
    }
    return backend;
  } finally {
    await backend.dispose();
  }
}

/** x → MatMul W [6, 4] → Tanh → Reshape to `shape` (as output "scores"). */
function headModel(shape: number[], width = 4) {
  return onnxBytes({
    nodes: [node('MatMul', ['input', 'w'], ['mm']), node('Tanh', ['mm'], ['t']), node('Reshape', ['t', 'shape'], ['scores'])],
    initializers: {
      w: { dims: [6, width], values: width === 4 ? w : Array.from({ length: 6 }, (_, i) => w[i * 4]!) },
      shape: { dims: [shape.length], values: shape, dataType: DataType.INT64 },
    },
    inputs: [valueInfo('input', ['batch', 6])],
    outputs: [
      valueInfo(
        'scores',
        shape.map((d, i) => (i === 0 ? 'batch' : d)),
      ),
    ],
  });
}

describe('outputs explained as [B, K]', () => {
  it('[B, K, 1, 1] (a 1×1 convolution head) is squeezed to [B, K]', () => expectGradients(headModel([-1, 4, 1, 1]), [0, 3, 2], logits(4)));
  it('[B] is one score, explained as [B, 1]', () => expectGradients(headModel([-1], 1), [0, 0, 0], logits(1)));
  it('[B, 1] is the same score', () => expectGradients(headModel([-1, 1], 1), [0, 0, 0], logits(1)));
  it('the logits of [B, K, 1] come back as [B, K]', async () => {
    const backend = createOnnxBackend(ort, headModel([-1, 4, 1]));
    try {
      const result = await backend.logits(x);
      expect(result.shape).toEqual([rows, 4]);
      expectClose(result.data.subarray(4, 8), logits(4)(Float64Array.from(x.data.subarray(6, 12))), 1e-6, 'row 1');
    } finally {
      await backend.dispose();
    }
  });
});

describe('only the path to the explained output needs rules', () => {
  it('an op without a rule (Det) in an unused second head, fed by a second input without a shape, is never refused', () => {
    const bytes = onnxBytes({
      nodes: [
        node('MatMul', ['input', 'w'], ['mm']),
        node('Tanh', ['mm'], ['scores']),
        node('Add', ['input', 'other'], ['sum']),
        node('Reshape', ['sum', 'square'], ['squares']),
        node('Det', ['squares'], ['second_head']),
      ],
      initializers: { w: { dims: [6, 4], values: w }, square: { dims: [3], values: [-1, 2, 3], dataType: DataType.INT64 } },
      inputs: [valueInfo('input', ['batch', 6]), valueInfo('other', ['batch', 6])],
      outputs: [valueInfo('scores', ['batch', 4]), valueInfo('second_head', ['batch'])],
    });
    return expectGradients(bytes, [1, 2, 3], logits(4), { inputName: 'input', outputName: 'scores' });
  });
  it('CumSum on integer position ids (off the gradient path, on the way to the output) is evaluated, not refused', () => {
    // scores = tanh(x·W + position·0.1), position = CumSum(mask) − 1 over [1, 4].
    const bytes = onnxBytes({
      nodes: [
        node('CumSum', ['mask', 'axis'], ['counts']),
        node('Sub', ['counts', 'one'], ['positions']),
        node('Cast', ['positions'], ['positions_f'], { to: { int: DataType.FLOAT } }),
        node('Mul', ['positions_f', 'tenth'], ['bias']),
        node('MatMul', ['input', 'w'], ['mm']),
        node('Add', ['mm', 'bias'], ['pre']),
        node('Tanh', ['pre'], ['scores']),
      ],
      initializers: {
        w: { dims: [6, 4], values: w },
        mask: { dims: [1, 4], values: [1, 1, 1, 1], dataType: DataType.INT64 },
        axis: { dims: [], values: [1], dataType: DataType.INT64 },
        one: { dims: [], values: [1], dataType: DataType.INT64 },
        tenth: { dims: [], values: [0.1] },
      },
      inputs: [valueInfo('input', ['batch', 6])],
      outputs: [valueInfo('scores', ['batch', 4])],
    });
    const reference = (e: Float64Array) =>
      Float64Array.from({ length: 4 }, (_, j) => Math.tanh(e.reduce((s, v, i) => s + v * w[i * 4 + j]!, 0) + 0.1 * j));
    return expectGradients(bytes, [0, 1, 3], reference);
  });
});
