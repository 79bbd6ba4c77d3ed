import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { explain, hostTensor, VARIANCE_ZERO_THRESHOLD } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { expectClose } from './helpers/check-gradient.js';
import { oneFlipCheck } from './helpers/one-flip.js';

/** Reference data written by scripts/make-fixtures.py with PyTorch autograd in float64. */
interface Reference {
  model: string;
  inputShape: number[];
  input: number[];
  targets: number[];
  logits: number[];
  gradient: number[];
  noise: { numSamples: number; sigma: number; values: number[] };
  vargrad: number[];
  /** The mean of the noisy samples' gradients (the SmoothGrad map), for oneFlipCheck. */
  noisyMean: number[];
  /** Present where some decision lies within float32 reach of its kink: see gradientTolerance() and the VarGrad test. */
  flipAllowance?: { gradient: number; vargrad: number; noisyGradient: number };
}

const fixtures = new URL('./fixtures/', import.meta.url);
const names = readdirSync(new URL('reference/', fixtures))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5));
const RUNTIMES: Array<[string, OnnxRuntimeModule, object]> = [
  ['onnxruntime-node', ortNode as unknown as OnnxRuntimeModule, {}],
  ['onnxruntime-web wasm', ortWeb as unknown as OnnxRuntimeModule, { executionProviders: ['wasm'] }],
];

const TOLERANCE = 1e-4;

/**
 * The input gradient: 1e-4 of the map's largest magnitude, plus the
 * reference's flipAllowance where it has one. A float32 runtime may
 * legitimately take a ReLU / ReLU6 / Hardswish / MaxPool decision the other
 * way when rounding reaches its kink, and one such flip moves a map by far
 * more than 1e-4. make-fixtures.py searches for draws with no decision within
 * float32 reach that matters; where none of 50 has that (mobilenet_v2 and
 * vgg11_bn take 10⁵–10⁶ decisions per sample), it records the largest change
 * one flipped decision makes to the map, computed in float64 (scripts/README.md,
 * "Single-flip effects"). VarGrad is held tighter: see its test.
 */
function gradientTolerance(reference: Reference): number {
  return TOLERANCE + (reference.flipAllowance?.gradient ?? 0);
}

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
        expectClose(logits.data, reference.logits, 1e-4, 'logits');
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
        expect(vargrad.shape).toEqual(reference.inputShape);
        // The spec sets VarGrad values below 1e-10 to exactly 0; PyTorch's reference keeps them.
        const expected = reference.vargrad.map((v) => (Math.abs(v) < VARIANCE_ZERO_THRESHOLD ? 0 : v));
        const error = maxRelativeError(vargrad.data, expected);
        if (error <= TOLERANCE) return;
        // Past 1e-4 only as one noisy sample's decision taken the other way
        // (measured: both runtimes flip one ReLU6 in a mobilenet_v2 sample),
        // checked on our per-sample gradients of the same noisy rows.
        const allowance = reference.flipAllowance;
        expect(
          allowance,
          `VarGrad ${error.toExponential(2)} of its scale from PyTorch's, and no decision lies within float32 reach of a kink`,
        ).toBeDefined();
        const rows = reference.inputShape[0]! * reference.noise.numSamples;
        const size = x.data.length / reference.inputShape[0]!;
        const noisy = new Float32Array(rows * size).map(
          (_, j) => x.data[Math.floor(j / (reference.noise.numSamples * size)) * size + (j % size)]! + noise.data[j]!,
        );
        const targets = Int32Array.from({ length: rows }, (_, r) => reference.targets[Math.floor(r / reference.noise.numSamples)]!);
        const gradients = await backend.gradients(hostTensor(noisy, [rows, ...exampleShape]), targets);
        const check = oneFlipCheck(
          gradients.data,
          reference.noisyMean,
          reference.vargrad,
          reference.inputShape[0]!,
          reference.noise.numSamples,
        );
        expect(
          maxRelativeError(vargrad.data, check.uncorrected),
          'VarGrad against the variance of the same per-sample gradients',
        ).toBeLessThanOrEqual(1e-5);
        expect(check.correction, 'the one-sample correction, relative to the mean map').toBeLessThanOrEqual(
          allowance!.noisyGradient + TOLERANCE,
        );
        expect(
          check.residual,
          `VarGrad ${error.toExponential(2)} from PyTorch's; after the best one-sample correction`,
        ).toBeLessThanOrEqual(TOLERANCE);
      } finally {
        await backend.dispose();
      }
    });
  });
});
