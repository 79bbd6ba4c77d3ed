import { AttributionError } from '../errors.js';
import { formatShape, sizeOf, type HostTensor } from '../tensor.js';

/**
 * Caller-supplied noise: writes the noise `ε` added to example `example`
 * for sample `sample` into `out` (one example's worth of elements). The
 * values are used as they are: `noiseScale` and `noiseLevel` do not scale them.
 */
export type NoiseFunction = (example: number, sample: number, out: Float32Array) => void;

/**
 * Caller-supplied noise: a function, or a tensor of shape `[N, ...S]` (the
 * same noise for every example) or `[B, N, ...S]` (noise per example), with
 * `S` the input shape without its batch axis.
 */
export type NoiseInput = NoiseFunction | HostTensor;

/**
 * A writer over caller-supplied noise, after checking that a tensor has a
 * shape that covers `numSamples` samples of every example.
 */
export function suppliedNoise(noise: NoiseInput, inputShape: readonly number[], numSamples: number): NoiseFunction {
  if (typeof noise === 'function') return noise;
  const exampleShape = inputShape.slice(1);
  const exampleSize = sizeOf(exampleShape);
  const batch = inputShape[0]!;
  const perSample = [numSamples, ...exampleShape];
  const perExample = [batch, numSamples, ...exampleShape];
  const matches = (shape: readonly number[]) => noise.shape.length === shape.length && noise.shape.every((d, axis) => d === shape[axis]);
  if (matches(perExample)) {
    return (example, sample, out) => {
      const start = (example * numSamples + sample) * exampleSize;
      out.set(noise.data.subarray(start, start + exampleSize));
    };
  }
  if (matches(perSample)) {
    return (_example, sample, out) => {
      out.set(noise.data.subarray(sample * exampleSize, (sample + 1) * exampleSize));
    };
  }
  throw new AttributionError(
    'INVALID_OPTION',
    `noise: a tensor of shape ${formatShape(noise.shape)} does not fit an input of shape ` +
      `${formatShape(inputShape)} with numSamples = ${numSamples}; ` +
      `expected ${formatShape(perSample)} (shared by all examples) or ${formatShape(perExample)} (one set per example)`,
  );
}
