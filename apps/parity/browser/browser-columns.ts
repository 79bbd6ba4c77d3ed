import type { RuntimeId } from '@saliency/core';
import { CHROMIUM_RUNTIMES, type ColumnEntry } from '../src/suite/columns.js';
import { onnxColumn } from '../src/suite/onnx-column.js';
import { tfjsColumn } from '../src/suite/tfjs-column.js';

/** Where the static server puts the runtimes' wasm files (see src/node/static-server.ts). */
export const ORT_WASM = '/ort/';
const TFJS_WASM = '/tfjs-wasm/';

async function tfjs(backend: 'cpu' | 'wasm' | 'webgl' | 'webgpu'): Promise<ColumnEntry> {
  const tf = await import('@tensorflow/tfjs');
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(TFJS_WASM);
    // Its multithreaded build starts workers from a script URL that a bundled
    // ES module page does not have ("e is not defined" in the worker, then the
    // page dies); the single-threaded SIMD build computes the same float32 ops.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  if (backend === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  return tfjsColumn(tf, backend, 'chromium');
}

async function ort(
  runtime: RuntimeId,
  device: string,
  module: () => Promise<{ env: { wasm: { wasmPaths?: unknown } } }>,
): Promise<ColumnEntry> {
  const ortModule = await module();
  ortModule.env.wasm.wasmPaths = ORT_WASM;
  return onnxColumn(ortModule, runtime, device, device, 'chromium');
}

/**
 * The Chromium column of a runtime id (one of `CHROMIUM_RUNTIMES`), with only
 * its runtime imported: onnxruntime-web's main entry is the JSEP build (wasm,
 * webgpu; no webgl), `/webgl` its WebGL EP, `/webgpu` the native WebGPU EP.
 */
export async function browserColumn(runtime: string): Promise<ColumnEntry> {
  switch (runtime) {
    case 'tfjs-cpu':
    case 'tfjs-wasm':
    case 'tfjs-webgl':
    case 'tfjs-webgpu':
      return tfjs(runtime.slice('tfjs-'.length) as 'cpu' | 'wasm' | 'webgl' | 'webgpu');
    case 'onnx-wasm':
      return ort(runtime, 'wasm', () => import('onnxruntime-web'));
    case 'onnx-webgl':
      return ort(runtime, 'webgl', () => import('onnxruntime-web/webgl'));
    case 'onnx-webgpu':
      return ort(runtime, 'webgpu', () => import('onnxruntime-web/webgpu'));
    default:
      throw new Error(`unknown Chromium runtime ${runtime}; known: ${CHROMIUM_RUNTIMES.join(', ')}`);
  }
}
