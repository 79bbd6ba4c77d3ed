import { onnxTarget } from '../src/suite/onnx-target.js';
import type { TargetEntry } from '../src/suite/targets.js';
import { tfjsTarget } from '../src/suite/tfjs-target.js';

/** Where the static server puts the runtimes' wasm files (see src/node/static-server.ts). */
const ORT_WASM = '/ort/';
const TFJS_WASM = '/tfjs-wasm/';

/** The targets of the Chromium run, by id; each is loaded only when asked for. */
export const BROWSER_TARGET_IDS = ['tfjs-cpu', 'tfjs-wasm', 'tfjs-webgl', 'tfjs-webgpu', 'ort-wasm', 'ort-webgl', 'ort-webgpu'] as const;

async function tfjs(backend: string): Promise<TargetEntry> {
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
  return tfjsTarget(tf, backend, 'chromium');
}

async function ort(id: string, device: string, module: () => Promise<{ env: { wasm: { wasmPaths?: unknown } } }>): Promise<TargetEntry> {
  const runtime = await module();
  runtime.env.wasm.wasmPaths = ORT_WASM;
  return onnxTarget(runtime, id, device, device, 'chromium');
}

/**
 * The target of an id, with only its runtime imported: onnxruntime-web's
 * main entry is the JSEP build (wasm, webgpu; no webgl), `/webgl` its WebGL
 * EP, `/webgpu` the native WebGPU EP.
 */
export async function browserTarget(id: string): Promise<TargetEntry> {
  switch (id) {
    case 'tfjs-cpu':
    case 'tfjs-wasm':
    case 'tfjs-webgl':
    case 'tfjs-webgpu':
      return tfjs(id.slice('tfjs-'.length));
    case 'ort-wasm':
      return ort(id, 'wasm', () => import('onnxruntime-web'));
    case 'ort-webgl':
      return ort(id, 'webgl', () => import('onnxruntime-web/webgl'));
    case 'ort-webgpu':
      return ort(id, 'webgpu', () => import('onnxruntime-web/webgpu'));
    default:
      throw new Error(`unknown browser target ${id}; known: ${BROWSER_TARGET_IDS.join(', ')}`);
  }
}
