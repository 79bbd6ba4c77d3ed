import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs the synchronous `compute` with `kernels` registered for the active
 * TF.js backend (each replacing the one registered under its name, if any),
 * then puts back what was registered before (or nothing), also when it throws.
 */
export function withKernels<T>(kernels: readonly Omit<tf.KernelConfig, 'backendName'>[], compute: () => T): T {
  const backendName = tf.getBackend();
  const previous = kernels.map(({ kernelName }) => tf.getKernel(kernelName, backendName));
  kernels.forEach((kernel, index) => {
    if (previous[index] !== undefined) tf.unregisterKernel(kernel.kernelName, backendName);
    tf.registerKernel({ ...kernel, backendName });
  });
  try {
    return compute();
  } finally {
    kernels.forEach(({ kernelName }, index) => {
      tf.unregisterKernel(kernelName, backendName);
      const config = previous[index];
      if (config !== undefined) tf.registerKernel(config);
    });
  }
}
