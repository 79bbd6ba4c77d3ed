import * as tf from '@tensorflow/tfjs-core';
import { AttributionError } from '@saliency/core';

const HOW_TO_REGISTER =
  "Register TF.js's gradients: `import '@tensorflow/tfjs'` (which includes them), or, with " +
  "@tensorflow/tfjs-core alone, `import '@tensorflow/tfjs-core/dist/register_all_gradients'` " +
  '(through a bundler; plain Node ESM cannot resolve its imports), or register the missing one ' +
  'with tf.registerGradient.';

/** TF.js has no gradient for a kernel the model runs (or none at all). */
export class MissingGradientError extends AttributionError {
  override readonly name: string = 'MissingGradientError';
  /** The TF.js kernel without a gradient, e.g. `BatchMatMul`. */
  readonly kernelName: string;

  constructor(kernelName: string, message: string, options?: { cause?: unknown }) {
    super('UNSUPPORTED_MODEL', message);
    if (options?.cause !== undefined) this.cause = options.cause;
    this.kernelName = kernelName;
  }
}

/**
 * `@tensorflow/tfjs-core` registers no gradients by itself; without them every
 * gradient call would fail deep in the backward pass. Checked on the kernels
 * of the backend's own one-hot selection of logits (Multiply, Sum) and on the
 * one nearly every model runs (BatchMatMul).
 */
export function assertGradientsRegistered(): void {
  for (const kernelName of [tf.Multiply, tf.Sum, tf.BatchMatMul]) {
    if (tf.getGradient(kernelName) === undefined) {
      throw new MissingGradientError(
        kernelName,
        `createTfjsBackend: no TF.js gradients are registered (none for ${kernelName}). ${HOW_TO_REGISTER}`,
      );
    }
  }
}

const MISSING_GRADIENT = /gradient function not found for ([A-Za-z0-9_]+)/;

/** Turns TF.js's "gradient function not found for X" into an error that says what to do. */
export function explainMissingGradient(error: unknown): unknown {
  const message = error instanceof Error ? error.message : '';
  const match = MISSING_GRADIENT.exec(message);
  if (match === null) return error;
  const kernelName = match[1]!;
  return new MissingGradientError(
    kernelName,
    `TF.js has no gradient registered for the kernel ${kernelName}, which the model runs, ` +
      `on the ${tf.getBackend()} backend. ${HOW_TO_REGISTER}`,
    { cause: error },
  );
}

/**
 * When `tf.grad` throws, TF.js leaves the tensors it saved for the backward
 * pass alive (they are kept out of every tidy) on the tape it was recording.
 * Outside any enclosing gradient computation, that tape belongs to us alone:
 * dispose what it saved and drop it, so that an error leaks no tensor.
 */
export function disposeAbandonedTape(): void {
  const state = tf.engine().state;
  if (state.gradientDepth !== 0 || state.activeTape == null) return;
  for (const node of state.activeTape) {
    for (const tensor of node.saved ?? []) tensor.dispose();
  }
  (state as { activeTape: unknown }).activeTape = null;
}
