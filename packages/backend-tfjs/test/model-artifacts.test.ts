import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { modelArtifacts } from '../src/index.js';
import { tf, useBackend } from './helpers/tfjs-setup.js';
import { layersModel, mlpSpec, randomInput } from './helpers/test-models.js';

describe('modelArtifacts', () => {
  it('rebuilds a saved model from its model.json and weight files split across shards', async () => {
    await useBackend('cpu');
    const original = layersModel(mlpSpec());
    let saved: tf.io.ModelArtifacts | undefined;
    await original.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    // Two shard files, as converters write for large models.
    const bytes = new Uint8Array(saved!.weightData as ArrayBuffer);
    const half = Math.floor(bytes.length / 8) * 4;
    const files: Record<string, Uint8Array> = { 'shard1.bin': bytes.slice(0, half), 'shard2.bin': bytes.slice(half) };
    const modelJson: tf.io.ModelJSON = {
      modelTopology: saved!.modelTopology!,
      format: 'layers-model',
      weightsManifest: [{ paths: ['shard1.bin', 'shard2.bin'], weights: saved!.weightSpecs! }],
    };
    const read: string[] = [];
    const artifacts = await modelArtifacts(modelJson, async (path) => {
      read.push(path);
      return files[path]!;
    });
    expect(read).toEqual(['shard1.bin', 'shard2.bin']);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    const x = randomInput(mlpSpec(), 3, 5);
    const input = tf.tensor(x.data, [...x.shape]);
    const [a, b] = [original.predict(input) as tf.Tensor, loaded.predict(input) as tf.Tensor];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([input, a, b]);
    original.dispose();
    loaded.dispose();
  });
});
