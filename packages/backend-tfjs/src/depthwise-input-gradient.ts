import * as tf from '@tensorflow/tfjs-core';
import { scatterStrided } from './strided-scatter.js';

/** The attributes of TF.js's `DepthwiseConv2dNativeBackpropInput` kernel (NHWC). */
export interface DepthwiseBackpropInputAttrs {
  readonly inputShape: [number, number, number, number];
  readonly strides: number | [number, number];
  readonly dilations: number | [number, number];
  readonly pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil' | undefined;
}

/**
 * Input gradient of a depthwise convolution, `dx = ∂/∂x Σ dy · depthwiseConv2d(x, w)`,
 * built from ops every TF.js backend has (TF.js 4.22's wasm backend has no
 * `DepthwiseConv2dNativeBackpropInput` kernel). With `x` of shape `[N, H, W, C]`,
 * `w` of shape `[fh, fw, C, m]`, stride `s`, dilation `d` and top padding `p`:
 *
 *   dx[n, h, ·, c] = Σ_{i, a, k : i·s + a·d − p = h} dy[n, i, ·, c·m + k] · w[a, ·, c, k]
 *
 * which is a stride-1 depthwise convolution, with the spatially flipped filter
 * and the same dilation, of `dy` zero-interleaved by the stride and padded
 * by `(fh − 1)·d − p` before and `H + p − ((oh − 1)·s + 1)` after (cropped
 * where negative); the `m` channels of each input channel are then summed.
 */
export function depthwiseInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: DepthwiseBackpropInputAttrs): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape,
      attrs.strides,
      attrs.dilations,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    );
    const { batchSize, inHeight, inWidth, inChannels, outChannels, outHeight, outWidth, padInfo } = info;
    const multiplier = outChannels / inChannels;
    const spanHeight = (info.filterHeight - 1) * info.dilationHeight;
    const spanWidth = (info.filterWidth - 1) * info.dilationWidth;
    const rows = (outHeight - 1) * info.strideHeight + 1;
    const cols = (outWidth - 1) * info.strideWidth + 1;
    const before = [spanHeight - padInfo.top, spanWidth - padInfo.left];
    const after = [inHeight + padInfo.top - rows, inWidth + padInfo.left - cols];
    // Pad where the amounts are positive, then crop where they are negative.
    const padded = scatterStrided(
      dy,
      Math.max(before[0]!, 0),
      Math.max(before[1]!, 0),
      info.strideHeight,
      info.strideWidth,
      Math.max(before[0]!, 0) + rows + Math.max(after[0]!, 0),
      Math.max(before[1]!, 0) + cols + Math.max(after[1]!, 0),
    ) as tf.Tensor4D;
    const window = tf.slice(
      padded,
      [0, Math.max(-before[0]!, 0), Math.max(-before[1]!, 0), 0],
      [batchSize, inHeight + spanHeight, inWidth + spanWidth, outChannels],
    );
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [info.filterHeight, info.filterWidth, outChannels, 1]);
    const perOutput = tf.depthwiseConv2d(window, flipped as tf.Tensor4D, 1, 'valid', 'NHWC', [info.dilationHeight, info.dilationWidth]);
    if (multiplier === 1) return perOutput;
    return tf.sum(tf.reshape(perOutput, [batchSize, inHeight, inWidth, inChannels, multiplier]), 4) as tf.Tensor4D;
  });
}

/**
 * The kernel TF.js's depthwise gradient and its fused depthwise convolution
 * call for the input's gradient. It returns a tensor, which TF.js's engine
 * takes as the kernel's output; the ops inside are not recorded on any tape.
 */
export const depthwiseInputGradientKernel: Omit<tf.KernelConfig, 'backendName'> = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  kernelFunc: ({ inputs, attrs }) => {
    const { dy, filter } = inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
    return depthwiseInputGradient(dy, filter, attrs as unknown as DepthwiseBackpropInputAttrs) as unknown as tf.TensorInfo;
  },
};
