import * as tf from '@tensorflow/tfjs-core';
import { AttributionError } from '@saliency/core';
import type { LayerLike } from './model-types.js';

/**
 * A Conv1D, Conv2D, DepthwiseConv2D or Dense layer of a LayersModel (or a
 * GraphModel's convolution or MatMul, `lrp-graph.ts`) seen as a linear
 * map of its input, z = L(x; W) + b — what LRP's rules (docs/methods.md,
 * "LRP") are written in. The bias is part of the layer, as the ε, z and γ
 * rules' denominators need it. A BatchNormalization that alone reads the
 * layer's output is folded into W and b (on copies; the model's weights are
 * never changed), and a ZeroPadding2D that only this layer reads becomes the
 * layer's own explicit padding, so that x is the unpadded input, as in an
 * ONNX Conv with `pads`.
 */
export interface LinearLayer {
  /** Which rule of a rule set applies: convolutions' or dense layers'. */
  readonly kind: 'conv' | 'dense';
  readonly weight: tf.Tensor;
  /** Broadcasts against z (over its last, channel axis), or undefined. */
  readonly bias: tf.Tensor | undefined;
  /** L(input; weight), no bias. */
  forward(input: tf.Tensor, weight: tf.Tensor): tf.Tensor;
  /** The vector–Jacobian product of L(·; weight) at `x` for cotangent `dz` (shaped as x), by the op's own gradient. */
  backward(dz: tf.Tensor, x: tf.Tensor, weight: tf.Tensor): tf.Tensor;
}

/** The Keras layers that are linear layers for LRP. */
export const LINEAR_LAYERS = ['Conv1D', 'Conv2D', 'DepthwiseConv2D', 'Dense'] as const;

export type Padding = 'valid' | 'same' | tf.backend_util.ExplicitPadding;

/** `layer "name" (Class)`, for messages. */
export function describeLayer(layer: LayerLike): string {
  return `layer "${layer.name}" (${layer.getClassName()})`;
}

/** `[a, a]` of a number, or the pair as it is. */
const pair = (value: unknown): [number, number] =>
  Array.isArray(value) ? [Number(value[0]), Number(value[1])] : [Number(value), Number(value)];

/**
 * The linear layer of `layer`, with `padding` (a ZeroPadding2D's
 * `[[top, bottom], [left, right]]`) merged in and `batchNorm` folded in.
 * Fails, naming the layer, on what LRP's rules here do not cover.
 */
export function linearLayer(layer: LayerLike, inputRank: number, padding?: [number, number][], batchNorm?: LayerLike): LinearLayer {
  const className = layer.getClassName();
  const config = layer.getConfig();
  const refuse = (why: string): never => {
    throw new AttributionError('UNSUPPORTED_MODEL', `${describeLayer(layer)}: ${why} (docs/methods.md, "LRP")`);
  };
  const [kernel, bias] = layer.getWeights();
  if (kernel === undefined) return refuse('LRP needs its kernel, which it does not hold');
  const useBias = config['useBias'] !== false && bias !== undefined;
  let weight: tf.Tensor = kernel;
  let shift: tf.Tensor | undefined = useBias ? bias : undefined;
  if (batchNorm !== undefined)
    ({ weight, shift } = foldBatchNorm(batchNormParameters(batchNorm), kernel, shift, className === 'DepthwiseConv2D'));

  if (className === 'Dense') {
    if (inputRank !== 2) refuse(`LRP takes a Dense layer on [batch, features], not on an input of rank ${inputRank}`);
    return denseLayer(weight, shift);
  }
  if (config['dataFormat'] !== undefined && config['dataFormat'] !== 'channelsLast') refuse('LRP takes channels-last convolutions');
  // A Conv1D on [B, L, C] is the Conv2D of height 1 on [B, 1, L, C] (as TF.js runs it): its kernel
  // [k, C, F] gains a leading 1 and its strides and dilation a leading 1.
  const oneD = className === 'Conv1D';
  const strides: [number, number] = oneD ? [1, Number(config['strides'] ?? 1)] : pair(config['strides'] ?? 1);
  const dilations: [number, number] = oneD ? [1, Number(config['dilationRate'] ?? 1)] : pair(config['dilationRate'] ?? 1);
  if (dilations[0] !== 1 || dilations[1] !== 1) refuse(DILATED);
  const pad: Padding = padding === undefined ? (config['padding'] as 'valid' | 'same') : [[0, 0], padding[0]!, padding[1]!, [0, 0]];
  if (oneD) weight = tf.expandDims(weight, 0);
  return convLayer(weight, shift, { strides, pad, depthwise: className === 'DepthwiseConv2D', oneD });
}

/** Why a dilated convolution is refused. */
export const DILATED = 'LRP needs the input gradient of a dilated convolution, which TF.js does not have';

/** z = x·W (+ b) on [batch, features]. */
export function denseLayer(weight: tf.Tensor, bias: tf.Tensor | undefined): LinearLayer {
  return {
    kind: 'dense',
    weight,
    bias,
    forward: (input, w) => tf.matMul(input as tf.Tensor2D, w as tf.Tensor2D),
    backward: (dz, _x, w) => tf.matMul(dz as tf.Tensor2D, w as tf.Tensor2D, false, true),
  };
}

/** How a channels-last convolution slides its kernel (no dilation). */
export interface ConvGeometry {
  readonly strides: [number, number];
  readonly pad: Padding;
  readonly depthwise: boolean;
  /** A Conv1D as the Conv2D of height 1: its input and z̄ gain an axis 1 that forward and backward remove again. */
  readonly oneD?: boolean;
}

/** z = conv(x, W) (+ b), channels last, W of a Conv2D [kh, kw, C, F] or a depthwise convolution [kh, kw, C, m]. */
export function convLayer(
  weight: tf.Tensor,
  bias: tf.Tensor | undefined,
  { strides, pad, depthwise, oneD = false }: ConvGeometry,
): LinearLayer {
  const dilations: [number, number] = [1, 1];
  const kernelName = depthwise ? tf.DepthwiseConv2dNative : tf.Conv2D;
  const convolve = depthwise ? tf.depthwiseConv2d : tf.conv2d;
  const to2d = (t: tf.Tensor) => (oneD ? tf.expandDims(t, 1) : t) as tf.Tensor4D;
  const from2d = (t: tf.Tensor) => (oneD ? tf.squeeze(t, [1]) : t);
  return {
    kind: 'conv',
    weight,
    bias,
    forward: (input, w) => from2d(convolve(to2d(input), w as tf.Tensor4D, strides, pad, 'NHWC', dilations)),
    backward: (dz, x, w) => {
      const gradient = tf.getGradient(kernelName);
      if (gradient === undefined) throw new Error(`gradient function not found for ${kernelName}`);
      const attrs = { strides, pad, dilations, dataFormat: 'NHWC', dimRoundingMode: undefined };
      return from2d(gradient.gradFunc(to2d(dz), [to2d(x), w], attrs as unknown as tf.NamedAttrMap)['x']!() as tf.Tensor);
    },
  };
}

/** A batch normalization's parameters over the channel axis: γ and β where it has them. */
export interface BatchNormParameters {
  readonly scale: tf.Tensor | undefined;
  readonly offset: tf.Tensor | undefined;
  readonly mean: tf.Tensor;
  readonly variance: tf.Tensor;
  readonly epsilon: number;
}

/** The parameters of a BatchNormalization layer. */
function batchNormParameters(batchNorm: LayerLike): BatchNormParameters {
  const config = batchNorm.getConfig();
  const weights = [...batchNorm.getWeights()];
  const scale = config['scale'] !== false ? weights.shift()! : undefined;
  const offset = config['center'] !== false ? weights.shift()! : undefined;
  const [mean, variance] = weights as [tf.Tensor, tf.Tensor];
  return { scale, offset, mean, variance, epsilon: Number(config['epsilon'] ?? 1e-3) };
}

/**
 * W′ = W·γ/√(σ² + ε) per output channel, b′ = (b − μ)·γ/√(σ² + ε) + β
 * (docs/methods.md, "LRP"). A depthwise kernel [kh, kw, C, m] has output
 * channel c·m + k, so the factor is laid out [C, m].
 */
export function foldBatchNorm(
  { scale, offset, mean, variance, epsilon }: BatchNormParameters,
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  depthwise: boolean,
): { weight: tf.Tensor; shift: tf.Tensor } {
  const factor = tf.div(scale ?? tf.onesLike(mean), tf.sqrt(tf.add(variance, epsilon)));
  return foldAffine(kernel, bias === undefined ? tf.neg(mean) : tf.sub(bias, mean), factor, offset, depthwise);
}

/**
 * z′ = z·a + c of z = L(x; W) + b as one layer: W′ = W·a per output channel
 * (a a scalar or one per channel), b′ = b·a + c. A depthwise kernel
 * [kh, kw, C, m] has output channel c·m + k, so a is laid out [C, m].
 */
export function foldAffine(
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  factor: tf.Tensor,
  offset: tf.Tensor | undefined,
  depthwise: boolean,
): { weight: tf.Tensor; shift: tf.Tensor } {
  const shape = depthwise ? kernel.shape.slice(2) : kernel.shape.slice(-1);
  const weight = tf.mul(kernel, factor.rank === 0 ? factor : tf.reshape(factor, shape));
  let shift = tf.mul(bias ?? tf.zeros([kernel.shape.at(-1)! * (depthwise ? kernel.shape[2]! : 1)]), factor);
  if (offset !== undefined) shift = tf.add(shift, offset);
  return { weight, shift };
}
