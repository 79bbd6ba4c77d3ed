import * as tf from '@tensorflow/tfjs-core';

/**
 * `UnsortedSegmentSum` from ops every TF.js backend has (TF.js 4.22's wasm
 * backend has no kernel of it; the gradient of `Gather` runs it). With `ids`
 * of `n` elements over the leading axes of `x`:
 *
 *   out[s, …] = Σ_{i : ids[i] = s} x[i, …] = (oneHot(ids, S)ᵀ · x)[s, …]
 *
 * ids outside `[0, S)` select no segment (a zero one-hot row), as in TF.js.
 */
export function unsortedSegmentSum(x: tf.Tensor, segmentIds: tf.Tensor, numSegments: number): tf.Tensor {
  return tf.tidy(() => {
    const n = segmentIds.size;
    const rest = x.shape.slice(segmentIds.rank);
    const rows = tf.reshape(tf.cast(x, 'float32'), [n, tf.util.sizeFromShape(rest)]);
    const selection = tf.cast(tf.oneHot(tf.reshape(tf.cast(segmentIds, 'int32'), [n]), numSegments), 'float32');
    const sums = tf.reshape(tf.matMul(selection, rows, true, false), [numSegments, ...rest]);
    return x.dtype === 'float32' ? sums : tf.cast(sums, x.dtype);
  });
}

/** The kernel, as the engine runs it: it returns a tensor, whose ops are recorded on no tape. */
export const unsortedSegmentSumKernel: Omit<tf.KernelConfig, 'backendName'> = {
  kernelName: 'UnsortedSegmentSum',
  kernelFunc: ({ inputs, attrs }) => {
    const { x, segmentIds } = inputs as { x: tf.Tensor; segmentIds: tf.Tensor };
    const { numSegments } = attrs as unknown as { numSegments: number };
    return unsortedSegmentSum(x, segmentIds, numSegments) as unknown as tf.TensorInfo;
  },
};
