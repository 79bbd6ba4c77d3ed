import * as tf from '@tensorflow/tfjs-core';
import { checkWeightBytes, checkWeightsManifest } from './weights-manifest.js';

/**
 * The artifacts of a TF.js model from its `model.json` and a reader for the
 * weight files it lists (paths as written in its manifest), for
 * `tf.io.fromMemory`: loading from disk in Node, from bundled bytes, or from
 * any source that `tf.loadLayersModel(url)` cannot fetch. The manifest is
 * checked before any file is read, and the files' bytes against it before
 * TF.js reads a weight (`INVALID_MODEL`, naming the weight and both sizes).
 */
export function modelArtifacts(
  modelJson: tf.io.ModelJSON,
  readWeightFile: (path: string) => Promise<Uint8Array>,
): Promise<tf.io.ModelArtifacts> {
  return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const weights = checkWeightsManifest(manifest);
    const files = await Promise.all(manifest.flatMap((group) => group.paths).map(readWeightFile));
    checkWeightBytes(
      weights,
      files.reduce((n, bytes) => n + bytes.byteLength, 0),
    );
    const buffers = files.map((bytes) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    return [manifest.flatMap((group) => group.weights), tf.io.concatenateArrayBuffers(buffers)];
  });
}
