import * as tf from '@tensorflow/tfjs-core';
import { firstMaxPoolGradient, type MaxPoolAttrs } from './first-max-pool-gradient.js';
import { stridedSliceGradient, type StridedSliceAttrs } from './strided-slice-gradient.js';

/**
 * Gradients that settle the ties and kinks of the method contract the same way
 * on every TF.js backend:
 *
 * - `MaxPool`: the whole gradient of a window goes to its first maximal
 *   element in row-major order (TF.js's webgl and webgpu kernels pick the last
 *   one; its wasm kernel in 4.22 loses the gradient of most tied windows).
 * - `Abs`: d|x|/dx = sign(x), so 0 at x = 0 (TF.js's own gives −1 there).
 *
 * and one TF.js lacks on every backend:
 *
 * - `StridedSlice`: converted graphs slice tensors with it (TF.js 4.22
 *   registers no gradient for it).
 *
 * and one whose TF.js gradient uploads a tensor of ones of the reduced
 * input's shape, made on the host, on every call (on ResNet-18's global
 * average pool, 100 KB per row):
 *
 * - `Mean`: `dy` broadcast back over the reduced axes on the device,
 *   divided by their size.
 */
const RULES: readonly tf.GradConfig[] = [
  {
    kernelName: 'MaxPool',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved as [tf.Tensor4D, tf.Tensor4D];
      return { x: () => firstMaxPoolGradient(dy as tf.Tensor4D, x, y, attrs as unknown as MaxPoolAttrs) };
    },
  },
  {
    kernelName: 'Abs',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => tf.mul(dy as tf.Tensor, tf.sign(tf.cast(x, 'float32'))) };
    },
  },
  {
    kernelName: 'StridedSlice',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => stridedSliceGradient(dy as tf.Tensor, x.shape, attrs as unknown as StridedSliceAttrs) };
    },
  },
  {
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => meanGradient(dy as tf.Tensor, x.shape, (attrs as unknown as MeanAttrs).axis) };
    },
  },
];

interface MeanAttrs {
  axis: number | number[];
}

/**
 * The gradient of a mean over `axis` of an input of shape `shape`: `dy`
 * broadcast back over the reduced axes by a device kernel (TF.js's
 * `broadcastTo`, a Tile), divided by their size.
 */
function meanGradient(dy: tf.Tensor, shape: number[], axis: number | number[]): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, shape);
  const kept = shape.map((size, a) => (axes.includes(a) ? 1 : size));
  const count = axes.reduce((product, a) => product * shape[a]!, 1);
  return tf.div(tf.broadcastTo(tf.reshape(tf.cast(dy, 'float32'), kept), shape), count);
}

/** The kernels whose gradients the rules above replace, on every backend. */
export const RULE_KERNEL_NAMES: readonly string[] = RULES.map(({ kernelName }) => kernelName);

/**
 * Runs `compute` with the rules above (and `extra`, e.g. a modified backward
 * pass's, which win) registered, then puts back whatever was
 * registered before (or nothing), also when it throws. TF.js looks gradients
 * up while it records the forward pass and calls them in the backward pass,
 * both inside a synchronous `tf.grad`, so `compute` must be synchronous: the
 * user's TF.js never sees these rules outside our own gradient calls.
 */
export function withGradientRules<T>(compute: () => T, extra: readonly tf.GradConfig[] = []): T {
  const rules = [...RULES, ...extra];
  const previous = rules.map((rule) => tf.getGradient(rule.kernelName) as tf.GradConfig | undefined);
  for (const rule of rules) tf.registerGradient(rule);
  try {
    return compute();
  } finally {
    rules.forEach((rule, index) => {
      const config = previous[index];
      if (config !== undefined) tf.registerGradient(config);
      else tf.unregisterGradient(rule.kernelName);
    });
  }
}
