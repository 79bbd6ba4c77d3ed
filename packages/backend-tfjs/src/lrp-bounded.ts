import * as tf from '@tensorflow/tfjs-core';

/**
 * y = clip(x, lo, hi) (ReLU6: lo = 0, hi = 6) whose gradient is LRP's rule
 * for a bounded activation: relevance passes unchanged, R(x) = R(y), as the
 * composites of Zennit and SignXAI pass it through element-wise activations
 * (docs/methods.md, "LRP"). Under R = a ⊙ c that is x̄ = ȳ · y/x where x ≠ 0
 * and 0 where x = 0: inside the range the ordinary gradient, past a bound
 * y/x where the gradient would be 0 and drop the relevance.
 */
export function clipPassingRelevance(x: tf.Tensor, lo: number, hi: number): tf.Tensor {
  const clip = tf.customGrad((input, save) => {
    const y = tf.clipByValue(input as tf.Tensor, lo, hi);
    (save as tf.GradSaveFunc)([input as tf.Tensor, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [xSaved, ySaved] = saved as [tf.Tensor, tf.Tensor];
          const zero = tf.equal(xSaved, 0);
          const ratio = tf.where(zero, tf.zerosLike(xSaved), tf.div(ySaved, tf.where(zero, tf.onesLike(xSaved), xSaved)));
          return tf.mul(dy, ratio);
        }),
    };
  }) as (input: tf.Tensor) => tf.Tensor;
  return clip(x);
}
