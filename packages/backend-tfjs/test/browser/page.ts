// The page real-models.browser.test.ts drives: gradients of a shipped
// GraphModel on a TF.js backend of the browser, with this package's source.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { hostTensor } from '@saliency/core';
import { createTfjsBackend } from '../../src/index.js';

export interface GradientRequest {
  readonly backend: 'webgl' | 'webgpu';
  readonly modelUrl: string;
  readonly shape: number[];
  readonly data: number[];
  readonly target: number;
  readonly outputName?: string;
}

async function gradients(request: GradientRequest): Promise<{ gradient: number[]; leaked: number }> {
  if (!(await tf.setBackend(request.backend))) throw new Error(`TF.js ${request.backend} did not start`);
  await tf.ready();
  const model = await loadGraphModel(request.modelUrl);
  try {
    const before = tf.memory().numTensors;
    const backend = createTfjsBackend(model, request.outputName === undefined ? {} : { outputName: request.outputName });
    const rows = request.shape[0]!;
    const g = await backend.gradients(
      hostTensor(Float32Array.from(request.data), request.shape),
      Int32Array.from({ length: rows }, () => request.target),
    );
    return { gradient: Array.from(g.data), leaked: tf.memory().numTensors - before };
  } finally {
    model.dispose();
  }
}

(window as unknown as { gradients: typeof gradients }).gradients = gradients;
document.body.dataset['ready'] = 'true';
