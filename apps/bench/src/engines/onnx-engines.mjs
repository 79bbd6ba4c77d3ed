// Our ONNX backend on each ONNX Runtime it runs on, set up as fast as it goes.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createOnnxBackend } from '@saliency/backend-onnx';
import { FIXTURE_MODELS, MODELS, PARITY_MODELS } from '../cases.mjs';
import { installWebGpu } from './webgpu-node.mjs';
import { runOnlyBackend } from './run-only-backend.mjs';
import { countGpuQueueWrites, countGpuReadbacks, countOrtTransfers } from '../transfers.mjs';

/**
 * The ONNX Runtime module and session options of an engine.
 *
 * - onnx-node: onnxruntime-node, `intraOpNumThreads` = threads, one inter-op
 *   thread, and the backend's own defaults (no memory pattern, no spinning
 *   intra-op threads: packages/backend-onnx/src/runtime/session-defaults.ts).
 * - onnx-wasm: onnxruntime-web's wasm EP. Its default thread count is
 *   min(4, ⌈cores / 2⌉), so 1 on a 2-core machine: set `numThreads` to the
 *   cores wanted (Node has SharedArrayBuffer and worker threads, so the
 *   threaded build runs its pthreads there). onnxruntime-web leaves the CPU
 *   memory arena off unless asked for (it passes `!!options.enableCpuMemArena`);
 *   both it and the memory pattern are asked for here.
 * - onnx-webgpu: the native WebGPU EP ('onnxruntime-web/webgpu');
 *   onnx-webgpu-capture: the same with the backend's `graphCapture`
 *   (createOnnxEngine); onnx-webgpu-jsep: the older JS-kernel WebGPU EP
 *   ('onnxruntime-web/all'). All need `navigator.gpu`, which Dawn gives Node
 *   (webgpu-node.mjs).
 */
async function runtime(engine, threads) {
  switch (engine) {
    case 'onnx-node':
      return { ort: await import('onnxruntime-node'), sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 } };
    case 'onnx-wasm': {
      const ort = await import('onnxruntime-web');
      ort.env.wasm.numThreads = threads;
      return { ort, sessionOptions: { executionProviders: ['wasm'], enableCpuMemArena: true, enableMemPattern: true } };
    }
    case 'onnx-webgpu':
    case 'onnx-webgpu-capture':
    case 'onnx-webgpu-jsep': {
      const adapter = await installWebGpu();
      const native = engine !== 'onnx-webgpu-jsep';
      const ort = await import(native ? 'onnxruntime-web/webgpu' : 'onnxruntime-web/all');
      // These browser bundles fetch their .wasm by URL, which Node's fetch
      // cannot do for a file: hand them the bytes. One thread: the work is
      // on the GPU, and their worker threads need a browser's script URL.
      const wasm = native ? 'ort-wasm-simd-threaded.asyncify.wasm' : 'ort-wasm-simd-threaded.jsep.wasm';
      ort.env.wasm.wasmBinary = await readFile(fileURLToPath(import.meta.resolve(`onnxruntime-web/${wasm}`)));
      ort.env.wasm.numThreads = 1;
      return { ort, sessionOptions: { executionProviders: ['webgpu'] }, adapter };
    }
    default:
      throw new Error(`unknown ONNX engine "${engine}"`);
  }
}

/**
 * Our backend for a fixture model on an engine. The fixture's declared input
 * size is the one it was traced at (48×48 for ResNet-18); the backend builds
 * its graphs for the shape it is given, so the declared-size check is left
 * out to run the same network at 224×224. `counter` (transfers.mjs) counts
 * the bytes of every session run and, on WebGPU, what the backend writes to
 * the device itself (the device noise's inputs, a captured session's inputs)
 * and reads back itself (a captured session's output). On WebGPU the backend makes
 * core's noise on ONNX Runtime's device (`deviceNoise`); runOnlyBackend
 * passes that on.
 *
 * onnx-webgpu-capture creates the backend with `graphCapture: true`. Where
 * ONNX Runtime refuses to capture a graph the backend runs it uncaptured and
 * warns (`onWarning`): every engine's warnings are collected in `warnings`,
 * which run-case.mjs puts into the result, so that a time taken without
 * capture is not reported as captured (report.mjs marks the row).
 */
export async function createOnnxEngine(engine, model, threads, counter) {
  const { ort, sessionOptions, adapter } = await runtime(engine, threads);
  const bytes = await readFile(`${MODELS[model]?.parity ? PARITY_MODELS : FIXTURE_MODELS}${model}.onnx`);
  const graphCapture = engine === 'onnx-webgpu-capture';
  const warnings = [];
  const backend = createOnnxBackend(countOrtTransfers(ort, counter), bytes, {
    sessionOptions,
    graphCapture,
    onWarning: (message) => warnings.push(message),
  });
  const info = {
    runtime: engine === 'onnx-node' ? `onnxruntime-node ${ort.env.versions?.node ?? ''}` : `onnxruntime-web ${ort.env.versions?.web ?? ''}`,
    graphCapture,
  };
  if (adapter) info.adapter = adapter;
  if (engine !== 'onnx-node') info.wasm = { numThreads: ort.env.wasm.numThreads, simd: ort.env.wasm.simd ?? 'default (required)' };
  const uncount = adapter ? [countGpuQueueWrites(globalThis.GPUQueue, counter), countGpuReadbacks(globalThis.GPUBuffer, counter)] : [];
  const dispose = async () => {
    for (const undo of uncount) undo();
    await backend.dispose();
  };
  return { backend: runOnlyBackend(backend, dispose), layout: 'onnx', info, warnings };
}
