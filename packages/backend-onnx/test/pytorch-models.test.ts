import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { explain, hostTensor } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { expectClose } from './helpers/check-gradient.js';
import { expectVarGradLikeReference, gradientTolerance, REFERENCE_TOLERANCE, type VarGradReference } from './helpers/vargrad-reference.js';

/** Reference data written by scripts/make-fixtures.py with PyTorch autograd in float64. */
interface Reference extends VarGradReference {
  model: string;
  input: number[];
  logits: number[];
  gradient: number[];
  noise: { numSamples: number; sigma: number; values: number[] };
}

const fixtures = new URL('./fixtures/', import.meta.url);
const names = readdirSync(new URL('reference/', fixtures))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5));
const RUNTIMES: Array<[string, OnnxRuntimeModule, object]> = [
  ['onnxruntime-node', ortNode as unknown as OnnxRuntimeModule, {}],
  ['onnxruntime-web wasm', ortWeb as unknown as OnnxRuntimeModule, { executionProviders: ['wasm'] }],
];

/**
 * PyTorch-exported models (random weights) against PyTorch autograd: the input
 * gradient of the target logit and VarGrad from the same noise, within 1e-4
 * of the reference's largest magnitude, or explained by one flipped kink
 * decision (gradientTolerance, oneFlipCheck).
 */
describe.each(names)('%s exported from PyTorch', (name) => {
  const reference: Reference = JSON.parse(readFileSync(new URL(`reference/${name}.json`, fixtures), 'utf8'));
  const bytes = readFileSync(new URL(`models/${name}.onnx`, fixtures));
  const x = hostTensor(Float32Array.from(reference.input), reference.inputShape);
  const exampleShape = reference.inputShape.slice(1);
  const noise = hostTensor(Float32Array.from(reference.noise.values), [
    reference.inputShape[0]!,
    reference.noise.numSamples,
    ...exampleShape,
  ]);

  describe.each(RUNTIMES)('on %s', (_runtime, ort, sessionOptions) => {
    it('gives the logits and the input gradient of the target logit', async () => {
      const backend = createOnnxBackend(ort, bytes, { sessionOptions });
      try {
        const logits = await backend.logits(x);
        expectClose(logits.data, reference.logits, REFERENCE_TOLERANCE, 'logits');
        const gradient = await explain(backend, 'gradient', x, { target: reference.targets });
        expectClose(gradient.data, reference.gradient, gradientTolerance(reference), 'gradient');
      } finally {
        await backend.dispose();
      }
    });

    it('gives VarGrad from the same noise', async () => {
      const backend = createOnnxBackend(ort, bytes, { sessionOptions });
      try {
        const vargrad = await explain(backend, 'vargrad', x, { target: reference.targets, noise, numSamples: reference.noise.numSamples });
        await expectVarGradLikeReference(backend, vargrad, reference, x, noise);
      } finally {
        await backend.dispose();
      }
    });
  });
});
