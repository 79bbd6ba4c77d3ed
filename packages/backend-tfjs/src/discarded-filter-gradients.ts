import * as tf from '@tensorflow/tfjs-core';
import { withKernels } from './temporary-kernels.js';

/**
 * TF.js's fused convolutions — what tfjs-layers and converted graphs run for a
 * convolution whose activation is linear, under a gradient too — compute the
 * filter's gradient in the same backward step as the input's, though only the
 * input's is wanted here. That is a second convolution's worth of wasted work
 * and, on wasm, which has no `Conv2DBackpropFilter` kernel, a failure.
 *
 * While a model whose filters are weights (never computed from the input) is
 * differentiated, these kernels return an unused tensor of the filter's shape
 * instead: TF.js drops the gradient of any operand that does not depend on
 * the input, so no result reads it.
 */
export const FILTER_GRADIENT_KERNELS = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter'] as const;

interface BackendWithOutputs {
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
  makeOutput?(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

const unusedFilterGradient: tf.KernelFunc = ({ backend, attrs }) => {
  const shape = [...(attrs as unknown as { filterShape: number[] }).filterShape];
  const target = backend as unknown as BackendWithOutputs;
  // wasm's backend makes outputs with makeOutput; the others with makeTensorInfo.
  if (target.makeTensorInfo) return target.makeTensorInfo(shape, 'float32', new Float32Array(tf.util.sizeFromShape(shape)));
  if (target.makeOutput) return target.makeOutput(shape, 'float32');
  throw new Error(`the TF.js backend ${tf.getBackend()} can make no tensor for an unused filter gradient`);
};

/**
 * Runs the synchronous `compute` with the filter-gradient kernels of the
 * active TF.js backend replaced as above, then puts back what was registered
 * before (or nothing), also when it throws.
 */
export function withoutFilterGradients<T>(compute: () => T): T {
  return withKernels(
    FILTER_GRADIENT_KERNELS.map((kernelName) => ({ kernelName, kernelFunc: unusedFilterGradient })),
    compute,
  );
}
