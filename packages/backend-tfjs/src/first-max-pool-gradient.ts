import * as tf from '@tensorflow/tfjs-core';
import { scatterStrided } from './strided-scatter.js';

/** The attributes of TF.js's `MaxPool` kernel (NHWC, no dilation). */
export interface MaxPoolAttrs {
  readonly filterSize: number | [number, number];
  readonly strides: number | [number, number];
  readonly pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil' | undefined;
}

/**
 * Gradient of 2-D max pooling that routes each window's gradient to the FIRST
 * maximal element of the window in row-major scan order (PyTorch's and ONNX's
 * choice, and TF.js's cpu kernel's, but not its webgl and webgpu kernels',
 * which take the last one). With `x` of shape `[N, H, W, C]`, `y = maxPool(x)`
 * and `dy` of the shape of `y`:
 *
 *   dx[n, h, w, c] = Σ_{(i, j) windows} dy[n, i, j, c] · [ (h, w) = first argmax of window (i, j) ]
 *
 * Built from generic ops only, so it gives the same result on every backend:
 * for each kernel offset (a, b) in row-major order, the strided slice of the
 * padded input at that offset holds element (a, b) of every window; it takes
 * the window's gradient where it equals the window's maximum and no earlier
 * offset took it, and is scattered back by zero-interleaving.
 */
export function firstMaxPoolGradient(dy: tf.Tensor4D, x: tf.Tensor4D, y: tf.Tensor4D, attrs: MaxPoolAttrs): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const info = tf.backend_util.computePool2DInfo(x.shape, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const { outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth, padInfo } = info;
    // Every window must lie inside the padded input, whatever rounding made the
    // output size.
    const paddedHeight = Math.max(padInfo.top + h + padInfo.bottom, (outHeight - 1) * strideHeight + filterHeight);
    const paddedWidth = Math.max(padInfo.left + w + padInfo.right, (outWidth - 1) * strideWidth + filterWidth);
    const paddings: Array<[number, number]> = [
      [0, 0],
      [padInfo.top, paddedHeight - padInfo.top - h],
      [padInfo.left, paddedWidth - padInfo.left - w],
      [0, 0],
    ];
    const xPadded = tf.pad(x, paddings);
    // 1 on the input's own elements, 0 on padding: a padded zero must never win
    // a window whose maximum happens to be 0. Constants are filled on the
    // device (tf.fill), not made on the host and uploaded on every call.
    const inside = tf.pad(tf.fill([1, h, w, 1], 1), paddings);
    const spanHeight = (outHeight - 1) * strideHeight + 1;
    const spanWidth = (outWidth - 1) * strideWidth + 1;
    const strides = [1, strideHeight, strideWidth, 1];

    let unclaimed: tf.Tensor = tf.onesLike(y);
    let dxPadded: tf.Tensor = tf.fill([n, paddedHeight, paddedWidth, c], 0);
    for (let a = 0; a < filterHeight; a++) {
      for (let b = 0; b < filterWidth; b++) {
        const [nextUnclaimed, nextDx] = tf.tidy(() => {
          const values = tf.stridedSlice(xPadded, [0, a, b, 0], [n, a + spanHeight, b + spanWidth, c], strides);
          const real = tf.stridedSlice(inside, [0, a, b, 0], [1, a + spanHeight, b + spanWidth, 1], strides);
          const isMax = tf.mul(tf.cast(tf.equal(values, y), 'float32'), real);
          const taken = tf.mul(isMax, unclaimed);
          const routed = scatterStrided(tf.mul(dy, taken), a, b, strideHeight, strideWidth, paddedHeight, paddedWidth);
          return [tf.sub(unclaimed, taken), tf.add(dxPadded, routed)];
        });
        unclaimed.dispose();
        dxPadded.dispose();
        unclaimed = nextUnclaimed;
        dxPadded = nextDx;
      }
    }
    return tf.slice(dxPadded, [0, padInfo.top, padInfo.left, 0], [n, h, w, c]) as tf.Tensor4D;
  });
}
