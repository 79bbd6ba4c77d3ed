import { readFileSync } from 'node:fs';
import * as tfl from '@tensorflow/tfjs-layers';
import { modelArtifacts } from '../../src/index.js';
import { tf } from './tfjs-setup.js';

/**
 * The parity fixtures' TF.js LayersModels (apps/parity/fixtures: the same
 * functions as their PyTorch definitions, channels last) and the PyTorch
 * references of packages/backend-onnx/scripts/make-xai-references.py
 * (channels first), which the ONNX backend's tests hold it to.
 */
const repository = new URL('../../../../', import.meta.url);

export async function loadParityFixture(name: string): Promise<tfl.LayersModel> {
  const folder = new URL(`apps/parity/fixtures/models/${name}-tfjs/`, repository);
  const json = JSON.parse(readFileSync(new URL('model.json', folder), 'utf8')) as tf.io.ModelJSON;
  const artifacts = await modelArtifacts(json, async (path) => readFileSync(new URL(path, folder)));
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts));
}

export function readXaiReference<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`packages/backend-onnx/test/fixtures/xai/${name}.json`, repository), 'utf8')) as T;
}

/** Values of shape [B, C, ...positions] reordered to [B, ...positions, C], and that shape. */
export function channelsLast(values: readonly number[], shape: readonly number[]): { values: number[]; shape: number[] } {
  if (shape.length < 3) return { values: [...values], shape: [...shape] };
  const [batch, channels] = shape as [number, number];
  const area = shape.slice(2).reduce((a, b) => a * b, 1);
  const out = new Array<number>(values.length);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      for (let p = 0; p < area; p++) out[(b * area + p) * channels + c] = values[(b * channels + c) * area + p]!;
    }
  }
  return { values: out, shape: [batch, ...shape.slice(2), channels] };
}
