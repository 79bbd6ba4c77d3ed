import { runtimeLibrary, type GradientBackend, type RuntimeId } from '@saliency/core';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import tfjsWasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import tfjsWasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import tfjsWasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** The runtimes the page offers, by runtime id: ONNX Runtime Web's execution providers and TF.js's backends. */
export const RUNTIMES = {
  'onnx-wasm': 'ONNX Runtime · wasm',
  'onnx-webgpu': 'ONNX Runtime · WebGPU',
  'tfjs-wasm': 'TF.js · wasm',
  'tfjs-webgl': 'TF.js · WebGL',
  'tfjs-webgpu': 'TF.js · WebGPU',
  'tfjs-cpu': 'TF.js · cpu',
} as const satisfies Partial<Record<RuntimeId, string>>;
export type Runtime = keyof typeof RUNTIMES;

/** Where a model comes from: ONNX bytes (bundled or uploaded), or a TF.js model.json URL. */
export type ModelSource = { readonly kind: 'onnx'; readonly bytes: Uint8Array } | { readonly kind: 'tfjs'; readonly url: string };

/** A backend ready to explain, and how to release it. */
export interface LoadedModel {
  readonly backend: GradientBackend;
  dispose(): Promise<void>;
}

function threads(): number {
  // Threads need SharedArrayBuffer, which only a cross-origin isolated page has.
  return globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
}

async function loadOnnx(bytes: Uint8Array, provider: 'wasm' | 'webgpu'): Promise<LoadedModel> {
  // The main entry is the JSEP build: wasm and WebGPU in one module, loaded on first use.
  const ort = await import('onnxruntime-web');
  ort.env.wasm.wasmPaths = { wasm: ortWasmUrl };
  ort.env.wasm.numThreads = threads();
  if (provider === 'webgpu' && !('gpu' in navigator)) throw new Error('this browser has no WebGPU (navigator.gpu)');
  const { createOnnxBackend } = await import('@saliency/backend-onnx');
  const backend = createOnnxBackend(ort, bytes, { sessionOptions: { executionProviders: [provider] } });
  return { backend, dispose: () => backend.dispose() };
}

async function loadTfjs(url: string, tfBackend: 'wasm' | 'webgl' | 'webgpu' | 'cpu'): Promise<LoadedModel> {
  // '@tensorflow/tfjs' brings cpu, webgl, the layers and converter APIs, and every gradient.
  const tf = await import('@tensorflow/tfjs');
  if (tfBackend === 'wasm') {
    const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
    setWasmPaths({
      'tfjs-backend-wasm.wasm': tfjsWasmUrl,
      'tfjs-backend-wasm-simd.wasm': tfjsWasmSimdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': tfjsWasmThreadedSimdUrl,
    });
  }
  if (tfBackend === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend(tfBackend))) throw new Error(`TF.js could not start its ${tfBackend} backend in this browser`);
  await tf.ready();
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const { format } = (await response.json()) as { format?: string };
  const model = format === 'graph-model' ? await tf.loadGraphModel(url) : await tf.loadLayersModel(url);
  const { createTfjsBackend } = await import('@saliency/backend-tfjs');
  const backend = createTfjsBackend(model);
  return {
    backend,
    dispose: async () => {
      backend.dispose();
      model.dispose();
    },
  };
}

/** Loads `model` on `runtime`; a TF.js runtime needs a TF.js model and ONNX Runtime an ONNX one. */
export async function loadModel(model: ModelSource, runtime: Runtime): Promise<LoadedModel> {
  const device = runtime.slice(runtime.indexOf('-') + 1);
  if (runtimeLibrary(runtime) === 'onnx') {
    if (model.kind !== 'onnx') throw new Error(`${RUNTIMES[runtime]} runs ONNX models; this model is TF.js`);
    return loadOnnx(model.bytes, device as 'wasm' | 'webgpu');
  }
  if (model.kind !== 'tfjs') throw new Error(`${RUNTIMES[runtime]} runs TF.js models only; choose ONNX Runtime for an ONNX file`);
  return loadTfjs(model.url, device as 'wasm' | 'webgl' | 'webgpu' | 'cpu');
}
