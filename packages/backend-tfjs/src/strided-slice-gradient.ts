import * as tf from '@tensorflow/tfjs-core';

/** The attributes of TF.js's `StridedSlice` kernel. */
export interface StridedSliceAttrs {
  readonly begin: number[];
  readonly end: number[];
  readonly strides: number[];
  readonly beginMask: number;
  readonly endMask: number;
  readonly ellipsisMask: number;
  readonly newAxisMask: number;
  readonly shrinkAxisMask: number;
}

/**
 * Gradient of `y = stridedSlice(x)` (TF.js 4.22 registers none): `dy` put back
 * at the elements the slice took, zeros elsewhere. TF.js's own slice
 * normalisation gives, per axis of `x`, a start `b`, an exclusive stop and a
 * stride `s` (masks, ellipsis, new and shrunk axes resolved), so that the
 * slice takes `n = ⌈(stop − b)/s⌉` elements `b, b + s, …` along that axis.
 * Axis by axis, `dy` (reshaped to those counts) is reversed where `s < 0`,
 * zero-interleaved by `|s|` and padded to the axis's size: pads, reshapes
 * and reversals, which every backend has.
 */
export function stridedSliceGradient(dy: tf.Tensor, xShape: readonly number[], attrs: StridedSliceAttrs): tf.Tensor {
  return tf.tidy(() => {
    const { begin, end, strides } = tf.slice_util.sliceInfo(
      [...xShape],
      attrs.begin,
      attrs.end,
      attrs.strides,
      attrs.beginMask,
      attrs.endMask,
      attrs.ellipsisMask,
      attrs.newAxisMask,
      attrs.shrinkAxisMask,
    );
    const counts = xShape.map((_, axis) => Math.max(0, Math.ceil((end[axis]! - begin[axis]!) / strides[axis]!)));
    if (counts.some((n) => n === 0)) return tf.fill([...xShape], 0, dy.dtype); // on the device, not uploaded
    let dx = tf.reshape(dy, counts);
    xShape.forEach((size, axis) => {
      const n = counts[axis]!;
      const stride = Math.abs(strides[axis]!);
      // The lowest index the slice takes along this axis.
      const low = strides[axis]! > 0 ? begin[axis]! : begin[axis]! + (n - 1) * strides[axis]!;
      if (strides[axis]! < 0) dx = tf.reverse(dx, axis);
      const outer = tf.util.sizeFromShape(dx.shape.slice(0, axis));
      const inner = tf.util.sizeFromShape(dx.shape.slice(axis + 1));
      let spread = tf.reshape(dx, [outer, n, 1, inner]);
      if (stride > 1) {
        spread = tf.pad(spread, [
          [0, 0],
          [0, 0],
          [0, stride - 1],
          [0, 0],
        ]);
        spread = tf.slice(tf.reshape(spread, [outer, n * stride, 1, inner]), [0, 0, 0, 0], [outer, (n - 1) * stride + 1, 1, inner]);
      }
      const span = (n - 1) * stride + 1;
      spread = tf.pad(spread, [
        [0, 0],
        [low, size - low - span],
        [0, 0],
        [0, 0],
      ]);
      dx = tf.reshape(spread, [...dx.shape.slice(0, axis), size, ...dx.shape.slice(axis + 1)]);
    });
    return dx;
  });
}
