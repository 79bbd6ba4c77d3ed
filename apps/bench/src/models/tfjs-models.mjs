// The fixture architectures (packages/backend-onnx/scripts/make-fixtures.py)
// as tfjs-layers models, channels-last as TF.js wants them, with random
// weights: they are built for timing, so only the shapes and the work per
// layer must match the ONNX files. BatchNorm is left out, as in the ONNX
// files, where the exporter folded every BatchNorm into its Conv.
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { MODELS, PARITY_MODELS } from '../cases.mjs';

/** MLP: 20 → 32 → 16 → 5, ReLU between. Input [B, 20]. */
export function mlp() {
  const x = tf.input({ shape: [20] });
  let y = tf.layers.dense({ units: 32, activation: 'relu' }).apply(x);
  y = tf.layers.dense({ units: 16, activation: 'relu' }).apply(y);
  y = tf.layers.dense({ units: 5 }).apply(y);
  return tf.model({ inputs: x, outputs: y, name: 'mlp' });
}

/**
 * 1-D CNN on [B, 128, 12] (the ONNX file's [B, 12, 128], channels last):
 * Conv1d(12→16, k 7, pad 3) → ReLU → MaxPool(2) → Conv1d(16→24, k 5,
 * dilation 2, pad 4) → ReLU → global average pool → Linear(24→4).
 *
 * TF.js 4.22 has no gradient for a dilated convolution ("dilation rates
 * greater than 1 are not yet supported in gradients"), so the dilated
 * convolution is the one it equals: kernel 9 whose odd taps are 0
 * (w'[2k] = w[k]); the same function with 9/5 of its multiply-adds.
 */
export function cnn1d() {
  const x = tf.input({ shape: [128, 12] });
  let y = tf.layers.conv1d({ filters: 16, kernelSize: 7, padding: 'same', activation: 'relu' }).apply(x);
  y = tf.layers.maxPooling1d({ poolSize: 2 }).apply(y);
  const dilated = tf.layers.conv1d({ filters: 24, kernelSize: 9, padding: 'same', activation: 'relu' });
  y = dilated.apply(y);
  y = tf.layers.globalAveragePooling1d().apply(y);
  y = tf.layers.dense({ units: 4 }).apply(y);
  const model = tf.model({ inputs: x, outputs: y, name: 'cnn1d' });
  const [kernel, bias] = dilated.getWeights();
  const taps = kernel.arraySync().map((tap, i) => (i % 2 === 0 ? tap : tap.map((row) => row.map(() => 0))));
  dilated.setWeights([tf.tensor3d(taps), bias]);
  return model;
}

/** Conv with PyTorch's symmetric zero padding (TF's 'same' pads stride-2 convs on one side only). */
function conv(y, filters, kernelSize, strides, pad, activation) {
  if (pad > 0) y = tf.layers.zeroPadding2d({ padding: pad }).apply(y);
  return tf.layers.conv2d({ filters, kernelSize, strides, padding: 'valid', activation }).apply(y);
}

/** torchvision's BasicBlock: two 3×3 convs, and a 1×1 strided projection where the shape changes. */
function basicBlock(x, filters, stride) {
  let y = conv(x, filters, 3, stride, 1, 'relu');
  y = conv(y, filters, 3, 1, 1, undefined);
  const shortcut = stride !== 1 || x.shape[3] !== filters ? conv(x, filters, 1, stride, 0, undefined) : x;
  return tf.layers.activation({ activation: 'relu' }).apply(tf.layers.add().apply([y, shortcut]));
}

/**
 * torchvision's resnet18(num_classes=10) on [B, H, W, 3]: 7×7/2 conv, ReLU,
 * 3×3/2 max pool, four stages of two BasicBlocks (64, 128, 256, 512
 * filters), global average pool, Linear(512 → 10). The max pool's zero
 * padding equals PyTorch's −∞ padding because it follows a ReLU.
 */
export function resnet18(size = 224) {
  const x = tf.input({ shape: [size, size, 3] });
  let y = conv(x, 64, 7, 2, 3, 'relu');
  y = tf.layers.zeroPadding2d({ padding: 1 }).apply(y);
  y = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid' }).apply(y);
  for (const [filters, stride] of [
    [64, 1],
    [128, 2],
    [256, 2],
    [512, 2],
  ]) {
    y = basicBlock(y, filters, stride);
    y = basicBlock(y, filters, 1);
  }
  y = tf.layers.globalAveragePooling2d({}).apply(y);
  y = tf.layers.dense({ units: 10 }).apply(y);
  return tf.model({ inputs: x, outputs: y, name: 'resnet18' });
}

/**
 * The parity fixture depthwise_separable as its tfjs-layers file has it (the
 * same weights as its ONNX file), declared at the benchmark's input size: it
 * ends in a global average pool, so its weights fit any size.
 */
export async function depthwise_separable() {
  const directory = `${PARITY_MODELS}depthwise_separable-tfjs/`;
  const json = JSON.parse(await readFile(`${directory}model.json`, 'utf8'));
  const input = json.modelTopology.config.layers.find((layer) => layer.class_name === 'InputLayer');
  input.config.batch_input_shape = [null, ...MODELS.depthwise_separable.tfjsShape];
  const [manifest] = json.weightsManifest;
  const data = await readFile(`${directory}${manifest.paths[0]}`);
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: manifest.weights,
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    }),
  );
}

/** The builders by the benchmark's model name (cases.mjs). */
export const TFJS_MODELS = { mlp, cnn1d, resnet18, depthwise_separable };
