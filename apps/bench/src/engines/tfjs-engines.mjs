// Our TF.js backend on each TF.js backend, with the fixture architectures
// built in tfjs-layers (random weights).
import * as tf from '@tensorflow/tfjs'; // its Node build registers every gradient
import { createTfjsBackend } from '@saliency/backend-tfjs';
import { TFJS_MODELS } from '../models/tfjs-models.mjs';
import { installWebGpu } from './webgpu-node.mjs';
import { runOnlyBackend } from './run-only-backend.mjs';
import { countTfjsTransfers } from '../transfers.mjs';

/**
 * Selects the TF.js backend of an engine.
 *
 * - tfjs-wasm: XNNPACK with SIMD. Its threaded build needs a worker script
 *   that it only finds in a browser; in Node it runs single-threaded
 *   (the thread count it reports is returned).
 * - tfjs-cpu: plain JavaScript kernels, one thread.
 * - tfjs-webgpu: through Dawn's navigator.gpu.
 */
async function selectBackend(engine, threads) {
  const name = engine.slice('tfjs-'.length);
  const info = { runtime: `@tensorflow/tfjs ${tf.version.tfjs} ${name}` };
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setThreadsCount(threads);
  } else if (name === 'webgpu') {
    info.adapter = await installWebGpu();
    await import('@tensorflow/tfjs-backend-webgpu');
  } else if (name !== 'cpu') {
    throw new Error(`unknown TF.js engine "${engine}"`);
  }
  if (!(await tf.setBackend(name))) throw new Error(`TF.js backend "${name}" failed to start`);
  await tf.ready();
  if (name === 'wasm') {
    info.wasm = {
      simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
      multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
      threads: tf.backend().getThreadsCount?.(),
    };
  }
  return info;
}

/** Our backend on a TF.js backend; `counter` (transfers.mjs) counts what TF.js's engine uploads and reads back. */
export async function createTfjsEngine(engine, model, threads, counter) {
  const info = await selectBackend(engine, threads);
  if (!Object.hasOwn(TFJS_MODELS, model)) throw new Error(`no TF.js build of model "${model}"`);
  const layers = await TFJS_MODELS[model]();
  const backend = createTfjsBackend(layers);
  const uncount = countTfjsTransfers(tf, counter);
  const dispose = async () => {
    uncount();
    await backend.dispose();
    layers.dispose();
  };
  return { backend: runOnlyBackend(backend, dispose), layout: 'tfjs', info };
}
