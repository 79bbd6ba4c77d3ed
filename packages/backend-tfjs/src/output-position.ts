import * as tf from '@tensorflow/tfjs-core';
import { checkOutputPosition, describeOutputPosition, type OutputPosition } from '@saliency/core';
import type { LogitsFunction } from './model-run.js';

/**
 * `model` explained at one position of its output (docs/methods.md, "Output
 * position"): every value it gives the logits from — its run, a layer
 * split's (Grad-CAM), its LRP run — passes `selectPosition` after the
 * probability head is left out. The position is checked against the
 * output's shape at each call, where the sizes are known.
 */
export function atOutputPosition(model: LogitsFunction, position: OutputPosition): LogitsFunction {
  const select = (output: tf.Tensor) => selectPosition(output, checkOutputPosition(position, model.description, output.shape.slice(1)));
  const lrp = model.lrp;
  return {
    ...model,
    run: (x, feeds) => select(model.run(x, feeds)),
    description: `${model.description} at position ${describeOutputPosition(position)}`,
    layerSplit: (layer, x, feeds) => {
      const split = model.layerSplit(layer, x, feeds);
      return { ...split, logitsFrom: (a) => select(split.logitsFrom(a)) };
    },
    ...(lrp === undefined
      ? {}
      : {
          lrp: (set) => {
            const run = lrp(set);
            return (x) => select(run(x));
          },
        }),
  };
}

/**
 * The `[B, K]` values of `output` at `position` (checked against its shape),
 * on the device and inside the tape: one slice that keeps a fixed axis's
 * index and a range's indices, a mean over the ranges' axes, a reshape to
 * `[B, K]`. Both are linear, so every method differentiates them as the
 * model's own ops, and LRP's relevance passes the slice unchanged and is
 * shared by a mean in proportion, as by an average pooling.
 */
export function selectPosition(output: tf.Tensor, position: OutputPosition): tf.Tensor {
  const begin = [0];
  const size = [-1];
  const averaged: number[] = [];
  position.forEach((entry, i) => {
    const [start, end] = entry === null ? [0, output.shape[i + 1]!] : typeof entry === 'number' ? [entry, entry + 1] : entry;
    begin.push(start);
    size.push(end - start);
    if (entry !== null && end - start > 1) averaged.push(i + 1);
  });
  const sliced = tf.slice(output, begin, size);
  const selected = averaged.length === 0 ? sliced : tf.mean(sliced, averaged, true);
  return tf.reshape(selected, [output.shape[0]!, output.shape[position.indexOf(null) + 1]!]);
}
