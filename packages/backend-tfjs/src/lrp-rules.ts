import * as tf from '@tensorflow/tfjs-core';
import { isInputRule, type LrpInputRule, type LrpLayerRule } from '@saliency/core';
import type { LinearLayer } from './lrp-layer.js';

/*
 * LRP's rules at one linear layer z = L(x; W) + b (docs/methods.md, "LRP").
 * Relevance travels as a cotangent c with R = a ⊙ c at every tensor a, so
 * that every other layer keeps its ordinary gradient; at the layer,
 * R_out = z ⊙ z̄ and a rule returns x̄ = c_in with R_in = x ⊙ c_in. A
 * first-layer rule (w², flat, zB) returns R_in itself. All run inside the
 * backward step of the layer's custom gradient, in its tidy.
 */

/** r / Z with Z = 0 replaced by 1: where Z = 0 every term of Z is 0, so is every share. */
const quotient = (r: tf.Tensor, z: tf.Tensor) => tf.div(r, tf.add(z, tf.cast(tf.equal(z, 0), 'float32')));
const positive = (t: tf.Tensor) => tf.relu(t);
const negative = (t: tf.Tensor) => tf.minimum(t, 0);
/** The axes of one example: all but the batch axis. */
const exampleAxes = (t: tf.Tensor) => Array.from({ length: t.rank - 1 }, (_, i) => i + 1);

/** x̄ of the ratio rules: ε (ε = 0: the z-rule, the ordinary gradient), z⁺, αβ, γ. */
export function layerRule(layer: LinearLayer, x: tf.Tensor, z: tf.Tensor, dz: tf.Tensor, rule: LrpLayerRule): tf.Tensor {
  const { weight } = layer;
  if (rule.kind === 'epsilon' && rule.epsilon === 0) return layer.backward(dz, x, weight);
  const relevance = tf.mul(z, dz);
  switch (rule.kind) {
    case 'epsilon': {
      // z + ε·s(z) with s(0) = +1; ε = f·std(x) of each example (population) for `_std_x`.
      const axes = exampleAxes(x);
      const std = () => tf.sqrt(tf.mean(tf.square(tf.sub(x, tf.mean(x, axes, true))), axes, true));
      // x and z have the same rank, so the [B, 1, …] deviation broadcasts against z.
      const epsilon = rule.stdX ? tf.mul(std(), rule.epsilon) : tf.scalar(rule.epsilon);
      const sign = tf.sub(1, tf.mul(tf.cast(tf.less(z, 0), 'float32'), 2));
      return layer.backward(tf.div(relevance, tf.add(z, tf.mul(epsilon, sign))), x, weight);
    }
    case 'zplus': {
      const wPlus = positive(weight);
      return layer.backward(quotient(relevance, layer.forward(x, wPlus)), x, wPlus);
    }
    case 'gamma': {
      const lift = (t: tf.Tensor) => tf.add(t, tf.mul(positive(t), rule.gamma));
      const wGamma = lift(weight);
      let zGamma = layer.forward(x, wGamma);
      if (layer.bias !== undefined) zGamma = tf.add(zGamma, lift(layer.bias));
      return layer.backward(quotient(relevance, zGamma), x, wGamma);
    }
    case 'alpha_beta': {
      // (x w)⁺ = x⁺w⁺ + x⁻w⁻ and (x w)⁻ = x⁺w⁻ + x⁻w⁺; x⁺/x = [x > 0], x⁻/x = [x < 0].
      const [wPlus, wMinus] = [positive(weight), negative(weight)];
      const [xPlus, xMinus] = [positive(x), negative(x)];
      const [above, below] = [tf.cast(tf.greater(x, 0), 'float32'), tf.cast(tf.less(x, 0), 'float32')];
      const part = (share: number, onPositive: tf.Tensor, onNegative: tf.Tensor) => {
        const zPart = tf.add(layer.forward(xPlus, onPositive), layer.forward(xMinus, onNegative));
        const s = quotient(tf.mul(relevance, share), zPart);
        return tf.add(tf.mul(above, layer.backward(s, x, onPositive)), tf.mul(below, layer.backward(s, x, onNegative)));
      };
      const activating = part(rule.alpha, wPlus, wMinus);
      return rule.beta === 0 ? activating : tf.sub(activating, part(rule.beta, wMinus, wPlus));
    }
  }
}

/** R_in of a first-layer rule: w², flat (bias ignored), or zB with the box [l, h]. */
export function inputRule(layer: LinearLayer, x: tf.Tensor, z: tf.Tensor, dz: tf.Tensor, rule: LrpInputRule): tf.Tensor {
  const relevance = tf.mul(z, dz);
  if (rule.kind !== 'box') {
    const w = rule.kind === 'w_square' ? tf.square(layer.weight) : tf.onesLike(layer.weight);
    const ones = tf.onesLike(x);
    return layer.backward(quotient(relevance, layer.forward(ones, w)), x, w);
  }
  // Bounds of x's shape: given, or each example's own minimum and maximum.
  const axes = exampleAxes(x);
  const bound = (value: number | undefined, reduce: typeof tf.min) =>
    value === undefined ? tf.add(tf.zerosLike(x), reduce(x, axes, true)) : tf.fill(x.shape, value);
  const [low, high] = [bound(rule.low, tf.min), bound(rule.high, tf.max)];
  const [wPlus, wMinus] = [positive(layer.weight), negative(layer.weight)];
  const zBox = tf.sub(tf.sub(layer.forward(x, layer.weight), layer.forward(low, wPlus)), layer.forward(high, wMinus));
  const s = quotient(relevance, zBox);
  const term = (input: tf.Tensor, w: tf.Tensor) => tf.mul(input, layer.backward(s, x, w));
  return tf.sub(tf.sub(term(x, layer.weight), term(low, wPlus)), term(high, wMinus));
}

/**
 * z = L(x; W) + b whose gradient is the LRP rule `rule`. TF.js disposes what
 * the forward pass made (folded weights included) before the backward pass
 * runs, except what is saved: W and b are saved beside x and z.
 */
export function relevanceLayer(layer: LinearLayer, rule: LrpLayerRule | LrpInputRule): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((x, save) => {
    const input = x as tf.Tensor;
    const linear = layer.forward(input, layer.weight);
    const z = layer.bias === undefined ? linear : tf.add(linear, layer.bias);
    (save as tf.GradSaveFunc)(layer.bias === undefined ? [input, z, layer.weight] : [input, z, layer.weight, layer.bias]);
    return {
      value: z,
      gradFunc: (dz: tf.Tensor, saved: tf.Tensor[]) => {
        const [xSaved, zSaved, weight, bias] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
        const kept: LinearLayer = { ...layer, weight, bias };
        return isInputRule(rule) ? inputRule(kept, xSaved, zSaved, dz, rule) : layerRule(kept, xSaved, zSaved, dz, rule);
      },
    };
  }) as (x: tf.Tensor) => tf.Tensor;
}
