import type { ReferenceModel } from '@saliency/core/reference';
import { uniformValues } from './check-gradient.js';
import { node, onnxBytes, valueInfo } from './onnx-model-builder.js';

/**
 * x [B, 6] → Gemm(W1ᵀ, transB) → Relu → Gemm → [B, 4] logits → `head`
 * (Softmax by default, or Sigmoid, or none), as PyTorch exports an MLP, with
 * seeded weights; and the logits in float64 with their analytic gradient.
 */
export function mlpFixture({ head = 'Softmax' }: { head?: 'Softmax' | 'Sigmoid' | 'none' } = {}) {
  const withHead = head !== 'none';
  const w1 = uniformValues(8 * 6, 101, -0.8, 0.8);
  const b1 = uniformValues(8, 102, -0.3, 0.3);
  const w2 = uniformValues(4 * 8, 103, -0.8, 0.8);
  const b2 = uniformValues(4, 104, -0.3, 0.3);
  const bytes = onnxBytes({
    nodes: [
      node('Gemm', ['input', 'w1', 'b1'], ['h'], { transB: { int: 1 } }, 'fc1'),
      node('Relu', ['h'], ['a'], {}, 'relu1'),
      node('Gemm', ['a', 'w2', 'b2'], [withHead ? 'logits' : 'output'], { transB: { int: 1 } }, 'fc2'),
      ...(head === 'Softmax' ? [node('Softmax', ['logits'], ['output'], { axis: { int: 1 } }, 'softmax')] : []),
      ...(head === 'Sigmoid' ? [node('Sigmoid', ['logits'], ['output'], {}, 'sigmoid')] : []),
    ],
    initializers: {
      w1: { dims: [8, 6], values: w1 },
      b1: { dims: [8], values: b1 },
      w2: { dims: [4, 8], values: w2 },
      b2: { dims: [4], values: b2 },
    },
    inputs: [valueInfo('input', ['batch', 6])],
    outputs: [valueInfo('output', ['batch', 4])],
  });
  const hidden = (x: Float64Array) => Float64Array.from({ length: 8 }, (_, j) => b1[j]! + x.reduce((s, v, i) => s + w1[j * 6 + i]! * v, 0));
  const reference: ReferenceModel = {
    logits: (x) => {
      const a = hidden(x).map((v) => Math.max(v, 0));
      return Float64Array.from({ length: 4 }, (_, k) => b2[k]! + a.reduce((s, v, j) => s + w2[k * 8 + j]! * v, 0));
    },
    gradient: (x, t) => {
      const h = hidden(x);
      return Float64Array.from({ length: 6 }, (_, i) => h.reduce((s, v, j) => s + (v > 0 ? w2[t * 8 + j]! * w1[j * 6 + i]! : 0), 0));
    },
  };
  return { bytes, reference };
}
