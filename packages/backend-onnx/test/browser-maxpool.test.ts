import { sizeOf } from '@saliency/core';
import { describe, expect, it } from 'vitest';
import { buildGradientModel, COTANGENT_INPUT, GRADIENT_OUTPUT } from '../src/autodiff/build-gradient-model.js';
import { node, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';
import { ortPageForSuite, relativeMaxError, runNode, runWebgl, values, type Feeds, type Outputs } from './helpers/webgl-page.js';

/*
 * MaxPool's gradient built for WebGL (no Indices, ScatterElements or ArgMax
 * there: per-axis Gathers of the windows, comparisons, a MatMul keeping the
 * first maximum, one ConvTranspose per axis) and for WebGPU (ArgMax instead
 * of the MatMul) on those EPs themselves, in Chromium with SwiftShader
 * (onnxruntime-web's WebGL bundle, and its native WebGPU EP's), against the
 * same graph on onnxruntime-node (whose values test/maxpool-windows.test.ts
 * checks against PyTorch).
 */

const GPU_TOLERANCE = 1e-3;
const ints = (v: number[]) => ({ ints: v });

describe.each(['webgl', 'webgpu'] as const)('onnxruntime-web %s EP: the MaxPool gradient built for it', (executionProvider) => {
  const page = ortPageForSuite(executionProvider);

  it.each([
    { name: '3×3 stride 1 pad 1', kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], levels: 0 },
    { name: '3×3 stride 2 pad 1', kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], levels: 0 },
    { name: '5×4 stride (1, 2) pad (2, 1), tied values', kernel: [5, 4], strides: [1, 2], pads: [2, 1, 2, 1], levels: 3 },
    { name: '7×7 stride 1 pad 3, tied values', kernel: [7, 7], strides: [1, 1], pads: [3, 3, 3, 3], levels: 3 },
  ])(
    '$name: as onnxruntime-node runs the same graph',
    async ({ kernel, strides, pads, levels }) => {
      const shape = [1, 3, 9, 8];
      const model = onnxModel({
        opset: 13,
        nodes: [
          node('MaxPool', ['x'], ['p'], { kernel_shape: ints(kernel), strides: ints(strides), pads: ints(pads) }),
          node('Flatten', ['p'], ['logits']),
        ],
        inputs: [valueInfo('x', shape)],
        outputs: [valueInfo('logits', [1, 0])],
      });
      const built = buildGradientModel(model, {
        inputName: 'x',
        inputShape: shape,
        outputName: 'logits',
        keepSoftmax: true,
        result: 'gradient',
        executionProvider,
      });
      const x = values(sizeOf(shape), 7);
      const feeds: Feeds = {
        x: { dims: shape, data: levels === 0 ? x : x.map((v) => Math.floor((v + 1) * (levels / 2))) },
        [COTANGENT_INPUT]: { dims: [...built.logitsShape], data: values(sizeOf(built.logitsShape), 13).map((v) => v + 2) },
      };
      const reference = (await runNode(built.bytes, feeds))[GRADIENT_OUTPUT]!.data as Float32Array;
      const result = await runWebgl(page(), built.bytes, feeds, executionProvider);
      expect(typeof result, String(result)).toBe('object');
      expect(relativeMaxError((result as Outputs)[GRADIENT_OUTPUT]!.data, reference)).toBeLessThanOrEqual(GPU_TOLERANCE);
    },
    120_000,
  );
});
