import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import * as ortNode from 'onnxruntime-node';
import { explain, fillStandardNormal, hostTensor } from '@saliency/core';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { createOnnxBackend, type OnnxRuntimeModule, type OutputPosition } from '../src/index.js';
import { node, onnxBytes, valueInfo } from './helpers/onnx-model-builder.js';
import { paddleOcrModel } from './helpers/output-position-check.js';
import { DAWN_TIMEOUT, runXY, sileroV5, webOrtInNode } from './helpers/node-webgpu-ort.js';
import { values } from './helpers/webgl-page.js';

/*
 * Silero VAD v5 (@ricky0123/vad-web) on onnxruntime-web's JSEP WebGPU EP (its
 * default bundle's EP; `/all` here), through Dawn on SwiftShader, against
 * onnxruntime-node. Its gradient was wrong there (1.7 of max |g|): the EP
 * computes a 1-D ConvTranspose whose pads differ at the two ends wrong, with
 * no error, and the gradients of Silero's strided encoder Convs are such
 * ConvTransposes; the graphs built for WebGPU now use pads equal at both ends
 * and a Slice (execution-provider.ts, 'asymmetricConvTransposePads').
 */

const onNode = ortNode as unknown as OnnxRuntimeModule;

let web: OnnxRuntimeModule;
beforeAll(async () => {
  web = await webOrtInNode('all');
}, 120_000);

const sessionOptions = { executionProviders: ['webgpu'] };

/** A 1-D ConvTranspose [1, 64, L] → [1, 64, 2L], kernel 3, stride 2, with these pads and output_padding. */
function convTranspose(length: number, pads: number[], outputPadding: number[]): Uint8Array {
  return onnxBytes({
    nodes: [
      node('ConvTranspose', ['x', 'w'], ['y'], {
        kernel_shape: { ints: [3] },
        strides: { ints: [2] },
        pads: { ints: pads },
        ...(outputPadding.length > 0 ? { output_padding: { ints: outputPadding } } : {}),
      }),
    ],
    initializers: { w: { dims: [64, 64, 3], values: values(64 * 64 * 3, 3) } },
    inputs: [valueInfo('x', [1, 64, length])],
    outputs: [valueInfo('y', [1, 64, 2 * length])],
    opset: 16,
  });
}

describe('the JSEP WebGPU EP on a 1-D ConvTranspose (Dawn, SwiftShader)', () => {
  it(
    'computes pads [1, 0] wrong, and the same values from pads [1, 1] with output_padding [1] right (why the WebGPU graphs avoid the first)',
    async () => {
      const x = Float32Array.from(values(64 * 2, 5));
      const asymmetric = convTranspose(2, [1, 0], []);
      const symmetric = convTranspose(2, [1, 1], [1]);
      const expected = await runXY(onNode, asymmetric, x, [1, 64, 2]);
      // Both forms give the same values on onnxruntime-node: output positions 1..4 of the unpadded transpose.
      expect(await runXY(onNode, symmetric, x, [1, 64, 2])).toEqual(expected);
      // If this fails because the values are right, the EP was fixed: 'asymmetricConvTransposePads' may be given back to WebGPU.
      expect(maxRelativeError(await runXY(web, asymmetric, x, [1, 64, 2], { executionProviders: ['webgpu'] }), expected)).toBeGreaterThan(
        0.1,
      );
      expect(
        maxRelativeError(await runXY(web, symmetric, x, [1, 64, 2], { executionProviders: ['webgpu'] }), expected),
      ).toBeLessThanOrEqual(1e-5);
    },
    DAWN_TIMEOUT,
  );
});

describe('Silero VAD v5 at 16 kHz on the JSEP WebGPU EP', () => {
  const { bytes, options } = sileroV5();
  const samples = 576;
  // A voiced frame: harmonics of 125 Hz, with noise (a pure sum of harmonics has STFT bins of exactly zero, where the
  // magnitude has no gradient: float32 rounding alone then turns it, by 1.1 of max |g| on onnxruntime-node, measured).
  const noise = values(samples, 7);
  const x = hostTensor(
    Float32Array.from({ length: samples }, (_, i) => {
      let v = 0.05 * noise[i]!;
      for (let k = 1; k <= 8; k++) v += (k === 5 || k === 6 ? 0.2 : 0.08) * Math.sin((2 * Math.PI * 125 * k * i) / 16000 + k);
      return v;
    }),
    [1, samples],
  );

  it(
    'gives the logits, the gradient and VarGrad (noise made on the device) of onnxruntime-node',
    async () => {
      const reference = createOnnxBackend(onNode, bytes, options);
      const gpu = createOnnxBackend(web, bytes, { ...options, sessionOptions });
      try {
        expect(gpu.deviceNoise).toBe(true);
        const logits = maxRelativeError((await gpu.logits(x)).data, (await reference.logits(x)).data);
        const target = Int32Array.from([0]);
        const expected = (await reference.gradients(x, target)).data;
        const gradient = maxRelativeError((await gpu.gradients(x, target)).data, expected);
        const vargradOptions = { target: 0, numSamples: 4, noiseScale: 0.05, seed: 1, batchSize: 4 };
        const vargrad = maxRelativeError(
          (await explain(gpu, 'vargrad', x, vargradOptions)).data,
          (await explain(reference, 'vargrad', x, vargradOptions)).data,
        );
        console.log(
          `Silero v5 on JSEP WebGPU vs onnxruntime-node: logits ${logits.toExponential(2)}, gradient ${gradient.toExponential(2)}, VarGrad ${vargrad.toExponential(2)}`,
        );
        expect(logits, 'logits').toBeLessThanOrEqual(1e-4);
        expect(vargrad, 'VarGrad').toBeLessThanOrEqual(1e-4);
        // The STFT is a Conv with a DFT basis: a bin near zero is a sum that cancels, so any other order of its 256
        // products (the GPU's) moves it by a few ulps of the largest bin, which is O(1) of the bin itself, and the
        // magnitude's gradient (Re, Im)/|X| turns with it. How far float32 alone moves this gradient at that level:
        // onnxruntime-node's own gradient at the frame moved by ±4 ulps of its largest sample, seeded signs.
        const scale = Math.max(...x.data.map(Math.abs));
        const signs = values(samples, 17);
        const moved = hostTensor(
          x.data.map((v, i) => v + Math.sign(signs[i]!) * 4 * 2 ** -24 * scale),
          x.shape,
        );
        const sensitivity = maxRelativeError((await reference.gradients(moved, target)).data, expected);
        const tolerance = Math.max(1e-4, 2 * sensitivity);
        console.log(`float32's own sensitivity of the gradient on onnxruntime-node: ${sensitivity.toExponential(2)}`);
        // A sign flip errs by 2 and the wrong ConvTranspose by 1.7: the bound must stay well below them.
        expect(tolerance, "float32's own sensitivity").toBeLessThan(0.5);
        expect(gradient, 'gradient').toBeLessThanOrEqual(tolerance);
      } finally {
        await reference.dispose();
        await gpu.dispose();
      }
    },
    DAWN_TIMEOUT,
  );
});

/*
 * The graphs built for WebGPU hold the other ConvTranspose form (and the Slice
 * after it, by attributes before opset 10): run on onnxruntime-node, they give
 * the gradient of the graphs built for the CPU, at the opsets of the real
 * models (PaddleOCR's recogniser 9, its detector 11, Silero 16).
 */
describe.each([
  ['ch_PP-OCRv4_rec_infer.onnx', [2, null], [1, 3, 48, 64]],
  ['ch_PP-OCRv4_det_infer.onnx', [null, 20, 33], [1, 3, 64, 64]],
] as Array<[string, OutputPosition, number[]]>)('PaddleOCR %s built for WebGPU, run on onnxruntime-node', (file, position, shape) => {
  it(
    'gives the gradient of the graph built for the CPU',
    async () => {
      const bytes = readFileSync(paddleOcrModel(file));
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      fillStandardNormal(data, 7, 0, 0);
      const x = hostTensor(data.map(Math.tanh), shape);
      const cpu = createOnnxBackend(onNode, bytes, { outputPosition: position });
      const webgpu = createOnnxBackend(onNode, bytes, { outputPosition: position, executionProvider: 'webgpu' });
      try {
        const target = Int32Array.from([0]);
        const error = maxRelativeError((await webgpu.gradients(x, target)).data, (await cpu.gradients(x, target)).data);
        expect(error).toBeLessThanOrEqual(1e-5);
      } finally {
        await cpu.dispose();
        await webgpu.dispose();
      }
    },
    DAWN_TIMEOUT,
  );
});
