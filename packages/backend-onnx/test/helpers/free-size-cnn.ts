import { uniformValues } from './check-gradient.js';
import { node, onnxBytes, valueInfo } from './onnx-model-builder.js';

/**
 * A small CNN whose height and width are free: two 3×3 convolutions with
 * ReLU, global average pooling and a linear layer to 10 classes, as models
 * that accept any image size are built.
 */
export function freeSizeCnn(channels = 16): Uint8Array {
  return onnxBytes({
    nodes: [
      node('Conv', ['input', 'w1', 'b1'], ['c1'], { pads: { ints: [1, 1, 1, 1] } }),
      node('Relu', ['c1'], ['r1']),
      node('Conv', ['r1', 'w2', 'b2'], ['c2'], { pads: { ints: [1, 1, 1, 1] } }),
      node('Relu', ['c2'], ['r2']),
      node('GlobalAveragePool', ['r2'], ['pooled']),
      node('Flatten', ['pooled'], ['flat']),
      node('Gemm', ['flat', 'wf', 'bf'], ['output'], { transB: { int: 1 } }),
    ],
    initializers: {
      w1: { dims: [channels, 3, 3, 3], values: uniformValues(channels * 27, 1, -0.3, 0.3) },
      b1: { dims: [channels], values: uniformValues(channels, 2, -0.1, 0.1) },
      w2: { dims: [channels, channels, 3, 3], values: uniformValues(channels * channels * 9, 3, -0.1, 0.1) },
      b2: { dims: [channels], values: uniformValues(channels, 4, -0.1, 0.1) },
      wf: { dims: [10, channels], values: uniformValues(10 * channels, 5, -0.5, 0.5) },
      bf: { dims: [10], values: uniformValues(10, 6, -0.1, 0.1) },
    },
    inputs: [valueInfo('input', ['batch', 3, 'height', 'width'])],
    outputs: [valueInfo('output', ['batch', 10])],
  });
}
