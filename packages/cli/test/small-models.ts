import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { python } from './helpers.js';

/** The weight of the small models: w[i, k] = (4 i + k) / 24, shape [6, 4]. */
export const W = (i: number, k: number) => (4 * i + k) / 24;
/** Their input `x6.npy`: 6 values evenly from −1 to 1. */
export const X6 = Array.from({ length: 6 }, (_, i) => -1 + (2 * i) / 5);
/** The embedding table of `tokens.onnx`: row j, column e. */
export const TABLE = (j: number, e: number) => Math.sin(j + 0.5 * e);

/**
 * Small ONNX models written by the onnx package into `dir`, each taking
 * `x` of shape [batch, 6] (and `x6.npy`, one such example):
 * - `two-outputs.onnx`: `logits = x · w` and `squashed = tanh(logits)`, both outputs;
 * - `hardmax.onnx`: `hardmax(x · w)`, an op the backend cannot differentiate;
 * - `alone/ext.onnx`: `logits = x · w` with `w` in the external data file
 *   `ext.onnx.data`, which is moved out to `dir` (so it is not next to the model);
 * - `alone/escape.onnx`: the same, naming its data file `../outside.data`;
 * - `two-inputs.onnx`: `logits = (a ⊙ b) · w`, inputs `a` and `b` of shape [batch, 6];
 * - `tokens.onnx`: token ids `ids` (int64 [batch, 4]) into a Gather on a table
 *   `[10, 6]` (row j: `TABLE(j, e)`), the mean over tokens, then `· w`.
 */
export function makeSmallOnnxModels(dir: string): void {
  mkdirSync(join(dir, 'alone'), { recursive: true });
  python(`
import numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
d = ${JSON.stringify(dir)}
np.save(d + '/x6.npy', np.linspace(-1, 1, 6).astype('<f4'))
def model(nodes, outputs):
    w = numpy_helper.from_array(np.arange(24, dtype=np.float32).reshape(6, 4) / 24, 'w')
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, ['batch', 6])
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, ['batch', 4]) for o in outputs]
    return helper.make_model(helper.make_graph(nodes, 'm', [x], outs, [w]), opset_imports=[helper.make_opsetid('', 13)])
onnx.save(model([helper.make_node('MatMul', ['x', 'w'], ['logits']), helper.make_node('Tanh', ['logits'], ['squashed'])], ['squashed', 'logits']), d + '/two-outputs.onnx')
onnx.save(model([helper.make_node('MatMul', ['x', 'w'], ['l']), helper.make_node('Hardmax', ['l'], ['y'])], ['y']), d + '/hardmax.onnx')
a, b = (helper.make_tensor_value_info(n, TensorProto.FLOAT, ['batch', 6]) for n in 'ab')
w = numpy_helper.from_array(np.arange(24, dtype=np.float32).reshape(6, 4) / 24, 'w')
logits = helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch', 4])
onnx.save(helper.make_model(helper.make_graph([helper.make_node('Mul', ['a', 'b'], ['ab']), helper.make_node('MatMul', ['ab', 'w'], ['logits'])],
    'm', [a, b], [logits], [w]), opset_imports=[helper.make_opsetid('', 13)]), d + '/two-inputs.onnx')
ids = helper.make_tensor_value_info('ids', TensorProto.INT64, ['batch', 4])
table = numpy_helper.from_array(np.sin(np.arange(10)[:, None] + 0.5 * np.arange(6)[None, :]).astype(np.float32), 'table')
onnx.save(helper.make_model(helper.make_graph([helper.make_node('Gather', ['table', 'ids'], ['embeddings']),
    helper.make_node('ReduceMean', ['embeddings'], ['mean'], axes=[1], keepdims=0), helper.make_node('MatMul', ['mean', 'w'], ['logits'])],
    'm', [ids], [logits], [table, w]), opset_imports=[helper.make_opsetid('', 13)]), d + '/tokens.onnx')
onnx.save_model(model([helper.make_node('MatMul', ['x', 'w'], ['logits'])], ['logits']), d + '/alone/ext.onnx',
                save_as_external_data=True, location='ext.onnx.data', size_threshold=0)
`);
  // the same model naming a data file outside its folder
  python(`
import onnx
m = onnx.load(${JSON.stringify(join(dir, 'alone', 'ext.onnx'))}, load_external_data=False)
for entry in m.graph.initializer[0].external_data:
    if entry.key == 'location': entry.value = '../outside.data'
onnx.save(m, ${JSON.stringify(join(dir, 'alone', 'escape.onnx'))})
`);
  copyFileSync(join(dir, 'alone', 'ext.onnx.data'), join(dir, 'ext.onnx.data'));
  rmSync(join(dir, 'alone', 'ext.onnx.data'));
}

/**
 * `tokens.onnx` as a TF.js layers model in `folder` (model.json, weights.bin):
 * int32 ids [batch, 4] into an Embedding layer `embedding` (the table
 * `TABLE`), a GlobalAveragePooling1D, a Dense `logits` without bias (`W`).
 */
export async function makeTfjsTokensModel(folder: string): Promise<void> {
  await tf.setBackend('cpu');
  const ids = tf.input({ shape: [4], dtype: 'int32', name: 'ids' });
  const table = tf.tensor2d(Array.from({ length: 10 }, (_, j) => Array.from({ length: 6 }, (_, e) => TABLE(j, e))));
  const w = tf.tensor2d(Array.from({ length: 6 }, (_, i) => Array.from({ length: 4 }, (_, k) => W(i, k))));
  const embedded = tf.layers.embedding({ inputDim: 10, outputDim: 6, name: 'embedding', weights: [table] }).apply(ids);
  const mean = tf.layers.globalAveragePooling1d({ name: 'mean' }).apply(embedded);
  const logits = tf.layers.dense({ units: 4, useBias: false, name: 'logits', weights: [w] }).apply(mean) as tf.SymbolicTensor;
  const model = tf.model({ inputs: ids, outputs: logits });
  await saveTfjsModel(model, folder);
  model.dispose();
  tf.dispose([table, w]);
}

/**
 * A TF.js sequence model, [batch, 12, 3] → [batch, T = 12, K = 4]: a Conv1D
 * `conv` (5 filters, kernel 3, same padding, tanh) and a TimeDistributed
 * Dense `classes` (4 units) ending in `head` (softmax as shipped; linear for
 * its logits). Weight e of each weight tensor, in TF.js's order, is
 * `SEQUENCE_WEIGHT(e)`.
 */
export function tfjsSequenceModel(head: 'softmax' | 'linear'): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.conv1d({ inputShape: [12, 3], filters: 5, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'conv' }));
  model.add(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 4, activation: head }), name: 'classes' }));
  const weights = model.getWeights().map((v) =>
    tf.tensor(
      Float32Array.from({ length: v.size }, (_, e) => SEQUENCE_WEIGHT(e)),
      v.shape,
    ),
  );
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

/** The weights of `tfjsSequenceModel`. */
const SEQUENCE_WEIGHT = (e: number) => 0.8 * Math.sin(1.7 * e + 0.3);

/** `tfjsSequenceModel('softmax')` saved in `folder` (model.json, weights.bin). */
export async function makeTfjsSequenceModel(folder: string): Promise<void> {
  await tf.setBackend('cpu');
  const model = tfjsSequenceModel('softmax');
  await saveTfjsModel(model, folder);
  model.dispose();
}

/** A LayersModel written to `folder` as model.json and weights.bin, as `saliency` reads it. */
async function saveTfjsModel(model: tf.LayersModel, folder: string): Promise<void> {
  mkdirSync(folder, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightsManifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs! }];
      writeFileSync(
        join(folder, 'model.json'),
        JSON.stringify({ format: 'layers-model', modelTopology: artifacts.modelTopology, weightsManifest }),
      );
      writeFileSync(join(folder, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}
