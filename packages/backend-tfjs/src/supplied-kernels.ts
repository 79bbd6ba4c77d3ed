import * as tf from '@tensorflow/tfjs-core';
import { depthwiseInputGradientKernel } from './depthwise-input-gradient.js';
import { unsortedSegmentSumKernel } from './segment-sum-kernel.js';
import { withKernels } from './temporary-kernels.js';

/**
 * Kernels that TF.js's own gradients call and that some of its backends lack
 * (see the gradient table in the README): each is supplied, built from ops
 * that backend has, only where the backend registers none of its own.
 */
const SUPPLIED_KERNELS = [depthwiseInputGradientKernel, unsortedSegmentSumKernel];

/** Runs the synchronous `compute` with the missing kernels supplied for the active backend. */
export function withSuppliedKernels<T>(compute: () => T): T {
  const backendName = tf.getBackend();
  const missing = SUPPLIED_KERNELS.filter(({ kernelName }) => tf.getKernel(kernelName, backendName) === undefined);
  return missing.length === 0 ? compute() : withKernels(missing, compute);
}

/** The names of the kernels this package can supply. */
export const SUPPLIED_KERNEL_NAMES: readonly string[] = SUPPLIED_KERNELS.map(({ kernelName }) => kernelName);
