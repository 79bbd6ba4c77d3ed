// One child process of the file-level fuzz (supervisor.mjs starts it with a
// memory cap): runs cases [first, first + count) of `seed`, each a mutated
// model file through createOnnxBackend and one gradient call, and prints one
// line per case. Exits 1 at the first outcome that is neither a map of the
// input's shape nor an AttributionError with a code.
//
//   node child.mjs <seed> <first> <count>
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { AttributionError, explain, hostTensor } from '@saliency/core';
import { createOnnxBackend } from '../../dist/index.js';
import { caseArbitrary, mutate, seedModels } from './mutations.mjs';

/** Budgets well under the supervisor's RSS cap, so that a run within them cannot reach it. */
export const FUZZ_BUDGETS = { maxFoldedElements: 1 << 20, maxFoldedBytes: 1 << 25, maxActivationElements: 1 << 22 };

const [seed, first, count] = process.argv.slice(2).map(Number);
const seeds = seedModels();
const cases = fc.sample(caseArbitrary(seeds.length), { seed, numRuns: first + count }).slice(first);
const tally = new Map();

for (const [offset, spec] of cases.entries()) {
  const index = first + offset;
  const seedModel = seeds[spec.model];
  const { bytes, description } = mutate(seedModel, spec);
  process.stdout.write(`start ${index} ${seedModel.name}: ${description}\n`);
  const size = seedModel.inputShape.reduce((a, b) => a * b, 1);
  const x = hostTensor(Float32Array.from({ length: size }, (_, i) => Math.sin(i + 1)), seedModel.inputShape);
  let outcome;
  let backend;
  try {
    backend = createOnnxBackend(ort, bytes, { budgets: FUZZ_BUDGETS });
    const map = await explain(backend, 'gradient', x, { target: 0 });
    if (!(map.data instanceof Float32Array) || map.shape.join() !== x.shape.join() || map.data.length !== size) {
      throw new Error(`a map of shape [${map.shape}] for an input of shape [${x.shape}]`);
    }
    outcome = 'map';
  } catch (error) {
    if (!(error instanceof AttributionError) || typeof error.code !== 'string') {
      process.stdout.write(`FAIL ${index} seed ${seed} ${seedModel.name}: ${description}\n${error instanceof Error ? error.stack : String(error)}\n`);
      if (process.env.FUZZ_KEEP_GOING !== '1') process.exit(1);
    }
    outcome = error.code;
  } finally {
    await backend?.dispose();
  }
  tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
  process.stdout.write(`done ${index} ${outcome}\n`);
}
process.stdout.write(`tally ${JSON.stringify(Object.fromEntries(tally))}\n`);
