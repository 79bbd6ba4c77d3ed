import { beforeAll, describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { hostTensor } from '@saliency/core';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { node, onnxBytes, valueInfo } from './helpers/onnx-model-builder.js';
import { DAWN_TIMEOUT, runXY, sileroV5, webOrtInNode } from './helpers/node-webgpu-ort.js';
import { values } from './helpers/webgl-page.js';

/*
 * The gap the README records for onnxruntime-web's native WebGPU EP
 * (`onnxruntime-web/webgpu`, 1.30) through Dawn on SwiftShader: it computes
 * a Conv with 129 input channels and a kernel of 3 wrong, with no error, and
 * with 128 or 130 right; Silero VAD v5's first encoder Conv is such a Conv
 * (its STFT has 129 bins), so the model's own forward output is wrong there,
 * before any gradient. The backend cannot build around a fault whose rule is
 * unknown (9, 33, 66 channels fail too; 5, 17, 64, 65 do not): this file
 * fails when the EP is fixed, so that the README's note goes.
 */

const onNode = ortNode as unknown as OnnxRuntimeModule;

let web: OnnxRuntimeModule;
beforeAll(async () => {
  web = await webOrtInNode('webgpu');
}, 120_000);

/** A 1-D Conv [1, C, 4] → [1, 16, 4], kernel 3, pads [1, 1]. */
function conv(channels: number): Uint8Array {
  return onnxBytes({
    nodes: [node('Conv', ['x', 'w'], ['y'], { kernel_shape: { ints: [3] }, pads: { ints: [1, 1] } })],
    initializers: { w: { dims: [16, channels, 3], values: values(16 * channels * 3, 3) } },
    inputs: [valueInfo('x', [1, channels, 4])],
    outputs: [valueInfo('y', [1, 16, 4])],
    opset: 16,
  });
}

describe('the native WebGPU EP (Dawn, SwiftShader)', () => {
  it(
    'computes a Conv of 129 input channels wrong, and of 128 and 130 right',
    async () => {
      const error = async (channels: number) => {
        const x = Float32Array.from(values(channels * 4, 5));
        const bytes = conv(channels);
        const expected = await runXY(onNode, bytes, x, [1, channels, 4]);
        return maxRelativeError(await runXY(web, bytes, x, [1, channels, 4], { executionProviders: ['webgpu'] }), expected);
      };
      expect(await error(128)).toBeLessThanOrEqual(1e-5);
      expect(await error(130)).toBeLessThanOrEqual(1e-5);
      expect(await error(129)).toBeGreaterThan(0.1);
    },
    DAWN_TIMEOUT,
  );

  it(
    "gives Silero VAD v5's output wrong, so no gradient of it can be right there",
    async () => {
      const { bytes, options } = sileroV5();
      const x = hostTensor(Float32Array.from(values(576, 7)), [1, 576]);
      const reference = createOnnxBackend(onNode, bytes, options);
      const gpu = createOnnxBackend(web, bytes, { ...options, sessionOptions: { executionProviders: ['webgpu'] } });
      try {
        const error = maxRelativeError((await gpu.logits(x)).data, (await reference.logits(x)).data);
        console.log(`Silero v5 output on the native WebGPU EP vs onnxruntime-node: ${error.toExponential(2)}`);
        expect(error).toBeGreaterThan(0.01);
      } finally {
        await reference.dispose();
        await gpu.dispose();
      }
    },
    DAWN_TIMEOUT,
  );
});
