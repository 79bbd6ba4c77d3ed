import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from './tfjs-setup.js';
import { prng, uniform } from './prng.js';
import type { Activation, LayerSpec, ModelSpec, Padding } from './float64-model.js';
import { hostTensor, type HostTensor } from '@saliency/core';

function dense(random: () => number, inDim: number, units: number, activation: Activation): LayerSpec {
  return {
    kind: 'dense',
    units,
    activation,
    kernel: uniform(random, inDim * units, 1.5 / Math.sqrt(inDim)),
    bias: uniform(random, units, 0.3),
  };
}

function conv(
  random: () => number,
  inC: number,
  filters: number,
  kernelSize: number,
  strides: number,
  padding: Padding,
  activation: Activation,
): LayerSpec {
  const fanIn = kernelSize * kernelSize * inC;
  return {
    kind: 'conv2d',
    filters,
    kernelSize,
    strides,
    padding,
    activation,
    kernel: uniform(random, fanIn * filters, 1.5 / Math.sqrt(fanIn)),
    bias: uniform(random, filters, 0.2),
  };
}

/** dense(8)-relu-dense(7)-relu-dense(4) on 6 features. */
export function mlpSpec(seed = 1, lastActivation: Activation = 'linear'): ModelSpec {
  const random = prng(seed);
  return {
    inputShape: [6],
    layers: [dense(random, 6, 8, 'relu'), dense(random, 8, 7, 'relu'), dense(random, 7, 4, lastActivation)],
  };
}

/**
 * conv2d-maxPool-flatten-dense on a 6×6×2 image. Variant 'a': 3×3 conv with
 * ReLU, stride 1, 'same'; 2×2 pool, stride 2, 'valid'. Variant 'b': 3×3 linear
 * conv (which TF.js runs as a fused op even under a gradient), stride 1,
 * 'valid'; 3×3 pool, stride 2, 'same'.
 */
export function cnnSpec(variant: 'a' | 'b', seed = 2): ModelSpec {
  const random = prng(seed);
  if (variant === 'a') {
    return {
      inputShape: [6, 6, 2],
      layers: [
        conv(random, 2, 3, 3, 1, 'same', 'relu'),
        { kind: 'maxPool', poolSize: 2, strides: 2, padding: 'valid' },
        { kind: 'flatten' },
        dense(random, 3 * 3 * 3, 4, 'linear'),
      ],
    };
  }
  return {
    inputShape: [6, 6, 2],
    layers: [
      conv(random, 2, 3, 3, 1, 'valid', 'linear'),
      { kind: 'maxPool', poolSize: 3, strides: 2, padding: 'same' },
      { kind: 'flatten' },
      dense(random, 2 * 2 * 3, 4, 'linear'),
    ],
  };
}

/** The same model in tfjs-layers, with the spec's weights. */
export function layersModel(spec: ModelSpec): tfl.Sequential {
  const model = tfl.sequential();
  spec.layers.forEach((layer, index) => {
    const first = index === 0 ? { inputShape: [...spec.inputShape] } : {};
    switch (layer.kind) {
      case 'dense':
        model.add(tfl.layers.dense({ ...first, units: layer.units, activation: layer.activation }));
        break;
      case 'conv2d':
        model.add(
          tfl.layers.conv2d({
            ...first,
            filters: layer.filters,
            kernelSize: layer.kernelSize,
            strides: layer.strides,
            padding: layer.padding,
            activation: layer.activation,
          }),
        );
        break;
      case 'maxPool':
        model.add(tfl.layers.maxPooling2d({ ...first, poolSize: layer.poolSize, strides: layer.strides, padding: layer.padding }));
        break;
      case 'flatten':
        model.add(tfl.layers.flatten(first));
        break;
    }
  });
  model.layers.forEach((layer, index) => {
    const spec_ = spec.layers[index]!;
    if (spec_.kind !== 'dense' && spec_.kind !== 'conv2d') return;
    const [kernel, bias] = layer.getWeights();
    tf.tidy(() =>
      layer.setWeights([tf.tensor(Float32Array.from(spec_.kernel), kernel!.shape), tf.tensor(Float32Array.from(spec_.bias), bias!.shape)]),
    );
  });
  return model;
}

/** A batch of `rows` examples of the spec's input shape, uniform in [-scale, scale). */
export function randomInput(spec: ModelSpec, rows: number, seed: number, scale = 1): HostTensor {
  const size = spec.inputShape.reduce((a, b) => a * b, 1);
  return hostTensor(Float32Array.from(uniform(prng(seed), rows * size, scale)), [rows, ...spec.inputShape]);
}

/** Row `r` of a host batch, as float64. */
export function example(x: HostTensor, r: number): Float64Array {
  const size = x.data.length / x.shape[0]!;
  return Float64Array.from(x.data.subarray(r * size, (r + 1) * size));
}
