import { expect } from 'vitest';
import { hostTensor, VARIANCE_ZERO_THRESHOLD, type HostTensor } from '@saliency/core';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import type { OnnxBackend } from '../../src/index.js';
import { oneFlipCheck } from './one-flip.js';

/** What a PyTorch reference (make-fixtures.py, make-shipped-fixtures.py) gives for VarGrad. */
export interface VarGradReference {
  inputShape: number[];
  targets: number[];
  vargrad: number[];
  /** The mean of the noisy samples' gradients (the SmoothGrad map), for oneFlipCheck. */
  noisyMean: number[];
  /** Present where some decision lies within float32 reach of its kink (scripts/README.md, "Single-flip effects"). */
  flipAllowance?: { gradient: number; vargrad: number; noisyGradient: number };
}

export const REFERENCE_TOLERANCE = 1e-4;

/**
 * The input gradient's tolerance: 1e-4 of the map's largest magnitude, plus
 * the reference's flipAllowance where it has one. A float32 runtime may
 * legitimately take a ReLU / ReLU6 / Hardswish / MaxPool decision the other
 * way when rounding reaches its kink, and one such flip moves a map by far
 * more than 1e-4; the fixture scripts record the largest change one flipped
 * decision makes to the map, computed in float64. VarGrad is held tighter:
 * see expectVarGradLikeReference.
 */
export function gradientTolerance(reference: VarGradReference): number {
  return REFERENCE_TOLERANCE + (reference.flipAllowance?.gradient ?? 0);
}

/**
 * A VarGrad map from `backend` against the reference's: within 1e-4 of its
 * scale, or, past it, only as one noisy sample's decision taken the other
 * way (measured: both runtimes flip one ReLU6 in a mobilenet_v2 sample),
 * checked on the backend's own per-sample gradients of the same noisy rows
 * `x + noise` (noise [B, N, ...S], the values the map was made with).
 */
export async function expectVarGradLikeReference(
  backend: OnnxBackend,
  vargrad: HostTensor,
  reference: VarGradReference,
  x: HostTensor,
  noise: HostTensor,
): Promise<void> {
  expect(vargrad.shape).toEqual(reference.inputShape);
  // The spec sets VarGrad values below 1e-10 to exactly 0; PyTorch's reference keeps them.
  const expected = reference.vargrad.map((v) => (Math.abs(v) < VARIANCE_ZERO_THRESHOLD ? 0 : v));
  const error = maxRelativeError(vargrad.data, expected);
  if (error <= REFERENCE_TOLERANCE) return;
  const allowance = reference.flipAllowance;
  expect(
    allowance,
    `VarGrad ${error.toExponential(2)} of its scale from PyTorch's, and no decision lies within float32 reach of a kink`,
  ).toBeDefined();
  const [examples, samples] = [noise.shape[0]!, noise.shape[1]!];
  const exampleShape = reference.inputShape.slice(1);
  const size = x.data.length / examples;
  const noisy = new Float32Array(examples * samples * size).map(
    (_, j) => x.data[Math.floor(j / (samples * size)) * size + (j % size)]! + noise.data[j]!,
  );
  const targets = Int32Array.from({ length: examples * samples }, (_, r) => reference.targets[Math.floor(r / samples)]!);
  const gradients = await backend.gradients(hostTensor(noisy, [examples * samples, ...exampleShape]), targets);
  const check = oneFlipCheck(gradients.data, reference.noisyMean, reference.vargrad, examples, samples);
  expect(
    maxRelativeError(vargrad.data, check.uncorrected),
    'VarGrad against the variance of the same per-sample gradients',
  ).toBeLessThanOrEqual(1e-5);
  expect(check.correction, 'the one-sample correction, relative to the mean map').toBeLessThanOrEqual(
    allowance!.noisyGradient + REFERENCE_TOLERANCE,
  );
  expect(check.residual, `VarGrad ${error.toExponential(2)} from PyTorch's; after the best one-sample correction`).toBeLessThanOrEqual(
    REFERENCE_TOLERANCE,
  );
}
