import type * as tfjs from '@tensorflow/tfjs';
import type { GradientBackend, RuntimeId } from '@saliency/core';
import { createTfjsBackend } from '@saliency/backend-tfjs';
import { columnId, type Environment, type ParityColumn } from './columns.js';

type Tf = typeof tfjs;

/**
 * A TF.js backend (`cpu`, `wasm`, `webgl`, `webgpu`) as a parity column. The
 * fixture's layers model is loaded from memory after switching backends, so
 * its weights live on that backend, and disposed with the gradient backend.
 */
export function tfjsColumn(tf: Tf, backendName: 'cpu' | 'wasm' | 'webgl' | 'webgpu', environment: Environment): ParityColumn {
  const gpu = backendName === 'webgl' || backendName === 'webgpu';
  const runtime: RuntimeId = `tfjs-${backendName}`;
  return {
    id: columnId(runtime, environment),
    runtime,
    library: 'TF.js',
    device: backendName,
    environment,
    deviceClass: gpu ? 'gpu' : 'float32-exact',
    model: 'tfjs',
    async open(fixture, probabilityHead = 'strip'): Promise<GradientBackend> {
      if (!(await tf.setBackend(backendName))) throw new Error(`TF.js backend ${backendName} failed to initialise`);
      await tf.ready();
      const model = await tf.loadLayersModel(tf.io.fromMemory(fixture.tfjs));
      const backend = createTfjsBackend(model, { softmax: probabilityHead });
      return withModelDisposal(backend, () => model.dispose());
    },
  };
}

/**
 * The backend with a `dispose` that also frees the model it was made for.
 * Every other member is the backend's own, read when asked for, so each
 * capability it has (modified backward passes, layer gradients, ...) stays
 * visible to core.
 */
function withModelDisposal(backend: GradientBackend, disposeModel: () => void): GradientBackend {
  const dispose = async () => {
    await backend.dispose?.();
    disposeModel();
  };
  return new Proxy(backend, {
    get(target, property) {
      if (property === 'dispose') return dispose;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
