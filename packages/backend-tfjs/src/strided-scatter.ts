import * as tf from '@tensorflow/tfjs-core';

/**
 * Places `v[n, i, j, c]` at `[n, a + i·sh, b + j·sw, c]` of a zero tensor of
 * shape `[N, height, width, C]`: the adjoint of a strided slice, and the
 * zero-interleaving of a transposed convolution. Kept
 * to rank-4 pads and reshapes, which every backend has.
 */
export function scatterStrided(
  v: tf.Tensor,
  a: number,
  b: number,
  strideHeight: number,
  strideWidth: number,
  height: number,
  width: number,
): tf.Tensor {
  const [n, oh, ow, c] = v.shape as [number, number, number, number];
  let spread = v;
  if (strideHeight > 1) {
    spread = tf.reshape(spread, [n, oh, 1, ow * c]);
    spread = tf.pad(spread, [
      [0, 0],
      [0, 0],
      [0, strideHeight - 1],
      [0, 0],
    ]);
    spread = tf.reshape(spread, [n, oh * strideHeight, ow, c]);
    spread = tf.slice(spread, [0, 0, 0, 0], [n, (oh - 1) * strideHeight + 1, ow, c]);
  }
  const rows = (oh - 1) * strideHeight + 1;
  if (strideWidth > 1) {
    spread = tf.reshape(spread, [n * rows, ow, 1, c]);
    spread = tf.pad(spread, [
      [0, 0],
      [0, 0],
      [0, strideWidth - 1],
      [0, 0],
    ]);
    spread = tf.reshape(spread, [n, rows, ow * strideWidth, c]);
    spread = tf.slice(spread, [0, 0, 0, 0], [n, rows, (ow - 1) * strideWidth + 1, c]);
  }
  const cols = (ow - 1) * strideWidth + 1;
  return tf.pad(spread, [
    [0, 0],
    [a, height - a - rows],
    [b, width - b - cols],
    [0, 0],
  ]);
}
