// The maps a run computes, checked against each other: each case's child
// process writes the map of its last warm VarGrad call per N (batchSize N,
// seed 1) as raw float32 into the run's maps folder and records its SHA-256;
// the run then compares every engine's map with a reference engine's of the
// same model and N from the same run:
//
// - an engine with a twin in SAME_MAPS_AS (cases.mjs; onnx-webgpu-capture →
//   onnx-webgpu) runs the same kernels as its twin: its maps must be equal
//   bit for bit, and the check says `equal` or `DIFFERENT`;
// - any other engine is compared with the first engine of its model that
//   takes the same input layout (the ONNX files or the tfjs-layers models,
//   whose weights differ): the largest difference relative to the
//   reference's largest value is recorded, without a verdict (another
//   runtime rounds differently).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAME_MAPS_AS } from './cases.mjs';

function mapFile(dir, engine, model, numSamples) {
  return join(dir, `${model}-${engine}-${numSamples}.f32`);
}

/** Writes one case's map (a Float32Array) into `dir`; returns its SHA-256 (hex). */
export function saveMap(dir, engine, model, numSamples, data) {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  writeFileSync(mapFile(dir, engine, model, numSamples), bytes);
  return createHash('sha256').update(bytes).digest('hex');
}

function readMap(dir, engine, model, numSamples) {
  const bytes = readFileSync(mapFile(dir, engine, model, numSamples));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** The engine whose maps `result`'s are checked against, and whether they must be equal; undefined for the first of its kind. */
function referenceOf(result, results) {
  const twin = SAME_MAPS_AS[result.engine];
  if (twin) return { engine: twin, exact: true };
  const first = results.find(
    (r) => r.model === result.model && r.kind === result.kind && r.layout === result.layout && r.cases && !r.error,
  );
  return first && !SAME_MAPS_AS[first.engine] ? { engine: first.engine, exact: false } : undefined;
}

/**
 * Sets `mapCheck` on each case of `result` (a finished case's RESULT), from
 * the maps in `dir` and the run's earlier `results` (`result` not among them).
 */
export function checkMaps(dir, result, results) {
  if (!result.layout || !result.cases) return; // PyTorch's, a failed case, the memory sweep: no maps
  const reference = referenceOf(result, results);
  if (!reference) return;
  const other = results.find((r) => r.engine === reference.engine && r.model === result.model && r.kind === result.kind && !r.error);
  for (const entry of result.cases.filter((c) => c.mapSha256)) {
    const check = { against: reference.engine, exact: reference.exact };
    const twin = other?.cases.find((c) => c.numSamples === entry.numSamples && c.mapSha256);
    if (!twin) {
      entry.mapCheck = { ...check, missing: `no ${reference.engine} map at N = ${entry.numSamples} in this run` };
      continue;
    }
    check.equal = twin.mapSha256 === entry.mapSha256;
    if (!check.equal) {
      const ours = readMap(dir, result.engine, result.model, entry.numSamples);
      const theirs = readMap(dir, reference.engine, result.model, entry.numSamples);
      if (ours.length !== theirs.length) check.sizes = [ours.length, theirs.length];
      else {
        let maxAbsDiff = 0;
        let maxAbs = 0;
        for (let i = 0; i < ours.length; i++) {
          maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ours[i] - theirs[i]));
          maxAbs = Math.max(maxAbs, Math.abs(theirs[i]));
        }
        Object.assign(check, { maxAbsDiff, maxAbs });
      }
    }
    entry.mapCheck = check;
  }
}
