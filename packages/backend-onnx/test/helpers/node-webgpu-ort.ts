import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { installNodeWebGpu } from '@saliency/dev-support/node-webgpu';
import type { FeedTensor } from '@saliency/core';
import type { OnnxRuntimeModule } from '../../src/index.js';
import { feedsOf, MODELS, VAD_DIST } from './silero-vad.js';

/*
 * What the real-model tests on the WebGPU EPs in Node (Dawn, SwiftShader)
 * share: an onnxruntime-web bundle loaded there, a one-op model run on a
 * runtime, and Silero VAD v5 as @ricky0123/vad-web ships it.
 */

const ORT_DIST = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));

/** Dawn's start, the bundle's load and the sessions' shader compilation on SwiftShader, on a loaded 2-core machine. */
export const DAWN_TIMEOUT = 300_000;

/** The wasm file each bundle loads: the JSEP build (`/all`, as the default bundle) or the native WebGPU EP's (`/webgpu`). */
const WASM = { all: 'ort-wasm-simd-threaded.jsep.wasm', webgpu: 'ort-wasm-simd-threaded.asyncify.wasm' } as const;

/** Installs Dawn's WebGPU in Node and loads onnxruntime-web's `bundle` there. */
export async function webOrtInNode(bundle: keyof typeof WASM): Promise<OnnxRuntimeModule> {
  await installNodeWebGpu();
  const web = bundle === 'all' ? await import('onnxruntime-web/all') : await import('onnxruntime-web/webgpu');
  // The bundle fetches its .wasm by URL, which Node cannot: hand it the bytes. One thread: the work is on the GPU.
  web.env.wasm.wasmBinary = readFileSync(join(ORT_DIST, WASM[bundle]));
  web.env.wasm.numThreads = 1;
  return web as unknown as OnnxRuntimeModule;
}

/** Runs a model of one input `x` and one output `y` in a fresh session, released after. */
export async function runXY(
  ort: OnnxRuntimeModule,
  bytes: Uint8Array,
  x: Float32Array,
  shape: number[],
  options = {},
): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, options);
  try {
    const outputs = await session.run({ x: new ort.Tensor('float32', x, shape) });
    return Float32Array.from(outputs['y']!.data as Float32Array);
  } finally {
    await session.release();
  }
}

/** Silero VAD v5's bytes and the backend options for a 16 kHz stream's first frame (zero state). */
export function sileroV5(): {
  bytes: Uint8Array;
  options: { inputName: string; outputName: string; feeds: Record<string, FeedTensor> };
} {
  return {
    bytes: readFileSync(join(VAD_DIST, 'silero_vad_v5.onnx')),
    options: { inputName: 'input', outputName: 'output', feeds: feedsOf(MODELS[1]!, 16000) },
  };
}
