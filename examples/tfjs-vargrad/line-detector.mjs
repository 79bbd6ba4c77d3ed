// The example's model and input, shared by the Node script and the browser page.
//
// The model is a hand-built line detector: one 3×3 filter responds to
// vertical strokes, one to horizontal strokes; ReLU, 2×2 max pooling and a
// dense layer turn them into two logits, "vertical" and "horizontal". The
// input holds a strong vertical bar and a weaker horizontal one.
import * as tf from '@tensorflow/tfjs';
import { hostTensor } from '@saliency/core';

export const SIZE = 16;

export function lineDetector() {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [SIZE, SIZE, 1], filters: 2, kernelSize: 3, padding: 'same', useBias: false }));
  model.add(tf.layers.reLU());
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 2, useBias: false }));
  // kernel[kh][kw][in][out]: out 0 is a vertical-stroke filter, out 1 a horizontal one.
  const vertical = [
    [-1, 2, -1],
    [-1, 2, -1],
    [-1, 2, -1],
  ];
  const kernel = [0, 1, 2].map((kh) => [0, 1, 2].map((kw) => [[vertical[kh][kw], vertical[kw][kh]]]));
  // Logit c sums the pooled responses of filter c.
  const pooled = (SIZE / 2) * (SIZE / 2);
  const dense = Array.from({ length: pooled * 2 }, (_, i) => (i % 2 === 0 ? [1, 0] : [0, 1]));
  model.setWeights([tf.tensor4d(kernel), tf.tensor2d(dense)]);
  return model;
}

export function image() {
  const pixels = new Float32Array(SIZE * SIZE);
  for (let row = 3; row < 13; row++) pixels[row * SIZE + 5] = 1; // vertical bar
  for (let col = 8; col < 14; col++) pixels[11 * SIZE + col] = 0.5; // weaker horizontal bar
  return hostTensor(pixels, [1, SIZE, SIZE, 1]);
}
