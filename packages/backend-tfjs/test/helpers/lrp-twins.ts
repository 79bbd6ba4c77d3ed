import { readFileSync } from 'node:fs';
import * as tfl from '@tensorflow/tfjs-layers';
import { tf } from './tfjs-setup.js';

/**
 * The LRP fixture nets of packages/backend-onnx/scripts/make-lrp-references.py
 * (the ReLU6 one as ReLU layers with maxValue 6 and an Activation relu6)
 * rebuilt in tfjs-layers, channels last, with the weights that
 * scripts/make-lrp-twins.py reads from their ONNX files (one entry per Conv,
 * depthwise Conv, BatchNormalization and Gemm/MatMul, in the order the nets
 * run them). PyTorch's Conv2d(stride 2, padding 1) on an even size pads
 * symmetrically, which `same` does not: it is ZeroPadding2D then a `valid`
 * Conv2D, as Keras writes it.
 */
type KernelEntry = { kind: 'conv' | 'depthwise' | 'dense'; kernel: number[]; kernelShape: number[]; bias?: number[] };
type BatchNormEntry = { kind: 'batchnorm'; gamma: number[]; beta: number[]; mean: number[]; variance: number[]; epsilon: number };
type TwinEntry = KernelEntry | BatchNormEntry;

const fixtures = new URL('../fixtures/lrp/', import.meta.url);

/** The weighted layers of the fixture `name`, taken in order, each checked to be of the kind the twin builds there. */
export function twinWeights(name: string) {
  const { layers: entries } = JSON.parse(readFileSync(new URL(`${name}.weights.json`, fixtures), 'utf8')) as { layers: TwinEntry[] };
  let next = 0;
  return {
    take<K extends TwinEntry['kind']>(kind: K): K extends 'batchnorm' ? BatchNormEntry : KernelEntry {
      const entry = entries[next++];
      if (entry === undefined) throw new Error(`${name}: the twin has more weighted layers than the fixture`);
      if (entry.kind !== kind) throw new Error(`${name}: layer ${next - 1} is ${entry.kind} in the fixture, ${kind} in the twin`);
      return entry as K extends 'batchnorm' ? BatchNormEntry : KernelEntry;
    },
    finish(): void {
      if (next !== entries.length) throw new Error(`${name}: the fixture has ${entries.length} weighted layers, the twin ${next}`);
    },
  };
}

/** Builds the net `name` with its layers' weights taken in order from the fixture. */
export function lrpTwin(name: string): tfl.LayersModel {
  const weights = twinWeights(name);
  const kernelLayer = (kind: 'conv' | 'depthwise' | 'dense', make: (useBias: boolean) => tfl.layers.Layer) => {
    const entry = weights.take(kind);
    const layer = make(entry.bias !== undefined);
    const values = [tf.tensor(entry.kernel, entry.kernelShape)];
    if (entry.bias !== undefined) values.push(tf.tensor1d(entry.bias));
    return { layer, weights: values };
  };
  const pending: Array<{ layer: tfl.layers.Layer; weights: tf.Tensor[] }> = [];
  const add = (item: { layer: tfl.layers.Layer; weights: tf.Tensor[] }) => {
    pending.push(item);
    return item.layer;
  };
  const conv = (filters: number, kernelSize: number, padding: 'same' | 'valid' = 'same', strides = 1) =>
    add(kernelLayer('conv', (useBias) => tfl.layers.conv2d({ filters, kernelSize, padding, strides, useBias })));
  const depthwise = () =>
    add(kernelLayer('depthwise', (useBias) => tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias })));
  const dense = (units: number, activation: 'relu' | 'linear' = 'linear') =>
    add(kernelLayer('dense', (useBias) => tfl.layers.dense({ units, activation, useBias })));
  const batchNorm = () => {
    const entry = weights.take('batchnorm');
    return add({
      layer: tfl.layers.batchNormalization({ epsilon: entry.epsilon }),
      weights: [entry.gamma, entry.beta, entry.mean, entry.variance].map((v) => tf.tensor1d(v)),
    });
  };
  const relu = () => tfl.layers.reLU();

  const input = tfl.input({ shape: [8, 8, 3] });
  const chain = (x: tfl.SymbolicTensor, layers: tfl.layers.Layer[]) => layers.reduce((t, layer) => layer.apply(t) as tfl.SymbolicTensor, x);
  let output: tfl.SymbolicTensor;
  switch (name) {
    case 'vgg':
      output = chain(input, [
        conv(6, 3),
        relu(),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        conv(8, 3),
        relu(),
        tfl.layers.averagePooling2d({ poolSize: 2 }),
        tfl.layers.flatten(),
        dense(16, 'relu'),
        dense(5),
      ]);
      break;
    case 'resnet': {
      const stem = chain(input, [conv(6, 3), batchNorm(), relu()]);
      const branch = chain(stem, [conv(6, 3), batchNorm(), relu(), conv(6, 3), batchNorm()]);
      const sum = tfl.layers.add().apply([branch, stem]) as tfl.SymbolicTensor;
      output = chain(sum, [relu(), tfl.layers.globalAveragePooling2d({}), dense(5)]);
      break;
    }
    case 'mobilenet':
      output = chain(input, [
        tfl.layers.zeroPadding2d({ padding: 1 }),
        conv(8, 3, 'valid', 2),
        batchNorm(),
        relu(),
        depthwise(),
        batchNorm(),
        relu(),
        conv(12, 1),
        batchNorm(),
        relu(),
        tfl.layers.globalAveragePooling2d({}),
        dense(5),
      ]);
      break;
    case 'mobilenetv2': {
      // ReLU6 both ways tfjs-layers writes it: a ReLU layer with maxValue, and Activation('relu6').
      const relu6 = () => tfl.layers.reLU({ maxValue: 6 });
      const stem = chain(input, [tfl.layers.zeroPadding2d({ padding: 1 }), conv(8, 3, 'valid', 2), batchNorm(), relu6()]);
      const branch = chain(stem, [
        conv(16, 1),
        batchNorm(),
        relu6(),
        depthwise(),
        batchNorm(),
        tfl.layers.activation({ activation: 'relu6' }),
        conv(8, 1),
        batchNorm(),
      ]);
      const sum = tfl.layers.add().apply([branch, stem]) as tfl.SymbolicTensor;
      output = chain(sum, [relu6(), conv(12, 1), batchNorm(), relu6(), tfl.layers.globalAveragePooling2d({}), dense(5)]);
      break;
    }
    case 'nobias':
      output = chain(input, [conv(6, 3), relu(), tfl.layers.maxPooling2d({ poolSize: 2 }), tfl.layers.flatten(), dense(5)]);
      break;
    default:
      throw new Error(`no twin of ${name}`);
  }
  weights.finish();
  const model = tfl.model({ inputs: input, outputs: output, name });
  for (const item of pending) {
    item.layer.setWeights(item.weights);
    tf.dispose(item.weights);
  }
  return model;
}
