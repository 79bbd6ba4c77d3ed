import { readFileSync } from 'node:fs';
import * as tfl from '@tensorflow/tfjs-layers';
import { rejection } from '@saliency/dev-support/rejection';
import { AttributionError } from '@saliency/core';
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

/* The bundled example's TF.js model, with its manifest or its weight file spoiled: refused before TF.js reads a weight (docs/bad-inputs.md, "Hostile models"). */
describe('modelArtifacts of a spoiled model', () => {
  const folder = new URL('../../../examples/mnist/model/tfjs/', import.meta.url);
  const json = () => JSON.parse(readFileSync(new URL('model.json', folder), 'utf8')) as tf.io.ModelJSON;
  const shard = new Uint8Array(readFileSync(new URL('group1-shard1of1.bin', folder)));
  const load = (modelJson: tf.io.ModelJSON, bytes: Uint8Array = shard) =>
    rejection(
      modelArtifacts(modelJson, async () => bytes),
      AttributionError,
    );
  const firstWeight = (modelJson: tf.io.ModelJSON) => modelJson.weightsManifest[0]!.weights[0]!;

  it('a weight file cut short: INVALID_MODEL naming the first weight past the end and both sizes', async () => {
    const error = await load(json(), shard.slice(0, 1000));
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toBe(
      'weight "conv2/kernel" (float32 [3, 3, 8, 16], 4,608 bytes) ends at byte 4,928, but the weight files hold 1,000 bytes',
    );
  });

  it('bytes left over after the last weight: INVALID_MODEL with both sizes', async () => {
    const longer = new Uint8Array(shard.length + 8);
    longer.set(shard);
    const error = await load(json(), longer);
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toBe(
      `the weights of model.json take ${shard.length.toLocaleString('en-US')} bytes, but the weight files hold ${longer.length.toLocaleString('en-US')} bytes`,
    );
  });

  it.each([
    [
      'a dimension of 100000 × 100000',
      [100000, 100000],
      /^weight "conv1\/kernel" \(float32 \[100000, 100000\], 40,000,000,000 bytes\) ends at byte 40,000,000,000, but the weight files hold/,
    ],
    [
      'a negative dimension',
      [3, -3, 1, 8],
      /^model\.json: weight "conv1\/kernel" has shape \[3,-3,1,8\]; a shape is a list of integers ≥ 0$/,
    ],
    ['a fractional dimension', [3, 1.5], /^model\.json: weight "conv1\/kernel" has shape \[3,1\.5\]; a shape is a list of integers ≥ 0$/],
    ['dimensions past 2^53', [2 ** 40, 2 ** 40], /whose element count is past 2\^53$/],
  ])('%s: INVALID_MODEL before any weight is read', async (_, shape, message) => {
    const modelJson = json();
    firstWeight(modelJson).shape = shape;
    const error = await load(modelJson);
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toMatch(message);
  });

  it('string weights of more values than the file could hold (4 bytes a length): INVALID_MODEL before TF.js reads them', async () => {
    const modelJson = json();
    Object.assign(firstWeight(modelJson), { dtype: 'string', shape: [1e9] });
    const error = await load(modelJson);
    expect(error.code).toBe('INVALID_MODEL');
    expect(error.message).toBe(
      `weight "conv1/kernel" (string [1000000000], at least 4,000,000,000 bytes) ends at byte at least 4,000,000,000, but the weight files hold ${shard.length.toLocaleString('en-US')} bytes`,
    );
  });

  it('an unknown dtype, and a manifest that is not a list: INVALID_MODEL', async () => {
    const modelJson = json();
    (firstWeight(modelJson) as { dtype: string }).dtype = 'float128';
    expect((await load(modelJson)).message).toMatch(
      /^model\.json: weight "conv1\/kernel" has dtype "float128"; known are float32, int32, bool/,
    );
    const notAList = { ...json(), weightsManifest: { paths: [] } } as unknown as tf.io.ModelJSON;
    expect((await load(notAList)).message).toBe('model.json: weightsManifest must be a list of groups { paths, weights }');
  });
});
