// The child process of the TF.js file-level fuzz (test/tfjs-file-fuzz.test.ts
// starts it through @saliency/dev-support/child-fuzz, with a memory cap):
// cases [first, first + count) of `seed`, each the bundled example's TF.js
// model with its weights manifest or weight file mutated — dims made huge,
// negative or fractional, dtypes and quantization changed, weights
// duplicated, dropped or reordered, the file cut, extended or bit-flipped —
// written to a folder and run as the command does: loadModel, then one
// gradient call.
//
//   node scripts/fuzz-tfjs-child.mjs <seed> <first> <count>
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { explain, hostTensor } from '@saliency/core';
import { runCases } from '@saliency/dev-support/child-fuzz';
import { loadModel } from '../dist/index.js';

const folder = fileURLToPath(new URL('../../../examples/mnist/model/tfjs/', import.meta.url));
const modelJson = readFileSync(join(folder, 'model.json'), 'utf8');
const shard = new Uint8Array(readFileSync(join(folder, 'group1-shard1of1.bin')));

const HOSTILE = [0, 1, -1, 2.5, 7, 1000, 65537, 2 ** 31, 2 ** 32, 1e9, 1e10, 2 ** 53, 1e300, Number.NaN, null, '3'];
const mutation = fc.record({
  kind: fc.constantFrom('dim', 'rank', 'dtype', 'quantize', 'duplicate', 'drop', 'reorder', 'truncate', 'extend', 'flip'),
  picks: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
  value: fc.constantFrom(...HOSTILE),
});
const caseArbitrary = fc.array(mutation, { minLength: 1, maxLength: 2 });

/** Applies the mutations to a copy of model.json and of the weight file; returns both and what was done. */
function mutate(mutations) {
  const json = JSON.parse(modelJson);
  const weights = json.weightsManifest[0].weights;
  let bytes = shard;
  const done = [];
  for (const {
    kind,
    picks: [a, b, c],
    value,
  } of mutations) {
    const weight = weights[a % Math.max(weights.length, 1)];
    if (kind === 'dim' && weight?.shape.length > 0) weight.shape[b % weight.shape.length] = value;
    else if (kind === 'rank' && weight) b % 2 === 0 ? weight.shape.push(value) : weight.shape.pop();
    else if (kind === 'dtype' && weight) weight.dtype = ['float32', 'int32', 'bool', 'complex64', 'string', 'float16', 'x'][b % 7];
    else if (kind === 'quantize' && weight) weight.quantization = { dtype: ['uint8', 'uint16', 'float16'][b % 3], scale: 0.5, min: -1 };
    else if (kind === 'duplicate' && weight) weights.splice(b % (weights.length + 1), 0, structuredClone(weight));
    else if (kind === 'drop' && weight) weights.splice(a % weights.length, 1);
    else if (kind === 'reorder' && weights.length > 1)
      [weights[a % weights.length], weights[b % weights.length]] = [weights[b % weights.length], weights[a % weights.length]];
    else if (kind === 'truncate') bytes = bytes.slice(0, a % bytes.length);
    else if (kind === 'extend') bytes = Uint8Array.from([...bytes, ...new Uint8Array(1 + (a % 64))]);
    else if (kind === 'flip') {
      bytes = bytes.slice();
      bytes[a % bytes.length] ^= 1 << (b % 8);
    }
    done.push(`${kind} ${weight?.name ?? ''} ${JSON.stringify(value)} ${a % 1000} ${b % 1000} ${c % 1000}`);
  }
  return { json: JSON.stringify(json), bytes, description: done.join('; ') };
}

const [seed, first, count] = process.argv.slice(2).map(Number);
const cases = fc
  .sample(caseArbitrary, { seed, numRuns: first + count })
  .slice(first)
  .map(mutate);
const x = hostTensor(
  Float32Array.from({ length: 28 * 28 }, (_, i) => Math.abs(Math.sin(i + 1))),
  [1, 28, 28, 1],
);

await runCases(seed, first, cases, async ({ json, bytes }) => {
  const dir = mkdtempSync(join(tmpdir(), 'saliency-tfjs-fuzz-'));
  let model;
  try {
    writeFileSync(join(dir, 'model.json'), json);
    writeFileSync(join(dir, 'group1-shard1of1.bin'), bytes);
    model = await loadModel(join(dir, 'model.json'), 'tfjs', 'tfjs-cpu');
    const map = await explain(model.backend, 'gradient', x, { target: 0 });
    if (!(map.data instanceof Float32Array) || map.shape.join() !== x.shape.join())
      throw new Error(`a map of shape [${map.shape}] for an input of shape [${x.shape}]`);
    return 'map';
  } finally {
    await model?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
