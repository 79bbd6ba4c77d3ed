// The child process of the ONNX file-level fuzz (test/model-file-fuzz.test.ts
// starts it through @saliency/dev-support/child-fuzz, with a memory cap):
// cases [first, first + count) of `seed`, each a mutated model file
// (mutations.mjs) through createOnnxBackend and one gradient call.
//
//   node scripts/file-fuzz/child.mjs <seed> <first> <count>
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { explain, hostTensor } from '@saliency/core';
import { runCases } from '@saliency/dev-support/child-fuzz';
import { buildGradientModel } from '../../dist/autodiff/build-gradient-model.js';
import { readOnnxModel } from '../../dist/model/onnx-model.js';
import { createOnnxBackend } from '../../dist/index.js';
import { caseArbitrary, mutate, seedModels } from './mutations.mjs';

/** Budgets well under the supervisor's RSS cap, so that a run within them cannot reach it. */
const FUZZ_BUDGETS = { maxFoldedElements: 1 << 20, maxFoldedBytes: 1 << 25, maxActivationElements: 1 << 22 };

const [seed, first, count] = process.argv.slice(2).map(Number);
const seeds = seedModels();
const specs = fc.sample(caseArbitrary(seeds.length), { seed, numRuns: first + count }).slice(first);
const cases = specs.map((spec) => {
  const seedModel = seeds[spec.model];
  const { bytes, description } = mutate(seedModel, spec);
  return { seedModel, bytes, description: `${seedModel.name}: ${description}` };
});
const GPU_TARGETS = ['webgpu', 'webgl'];
let caseNumber = 0;

/**
 * The gradient graph as it would be built for a GPU target, whose rules
 * emit other constructions (masks, comparisons); onnxruntime-node has no such
 * EP, so only the build runs. Its errors must be coded too.
 */
function buildForGpu(bytes, inputName, inputShape, executionProvider) {
  const model = readOnnxModel(bytes, undefined);
  const outputName = model.graph.output[0]?.name ?? '';
  buildGradientModel(model, {
    inputName,
    inputShape,
    outputName,
    keepSoftmax: false,
    result: 'gradient',
    executionProvider,
    budgets: { ...FUZZ_BUDGETS, maxNodes: 1e5, maxSubgraphDepth: 16 },
  });
}

await runCases(seed, first, cases, async ({ seedModel, bytes }) => {
  const size = seedModel.inputShape.reduce((a, b) => a * b, 1);
  const x = hostTensor(
    Float32Array.from({ length: size }, (_, i) => Math.sin(i + 1)),
    seedModel.inputShape,
  );
  let backend;
  try {
    backend = createOnnxBackend(ort, bytes, { budgets: FUZZ_BUDGETS });
    const map = await explain(backend, 'gradient', x, { target: 0 });
    if (!(map.data instanceof Float32Array) || map.shape.join() !== x.shape.join() || map.data.length !== size) {
      throw new Error(`a map of shape [${map.shape}] for an input of shape [${x.shape}]`);
    }
    buildForGpu(bytes, seedModel.model.graph.input[0].name, seedModel.inputShape, GPU_TARGETS[caseNumber++ % 2]);
    return 'map';
  } finally {
    await backend?.dispose();
  }
});
