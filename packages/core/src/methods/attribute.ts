import type { GradientBackend } from '../backend.js';
import { seededNoise, suppliedNoise, type NoiseFunction } from '../noise/noise-source.js';
import { AttributionError } from '../errors.js';
import { formatShape, sizeOf, type HostTensor } from '../tensor.js';
import { expectShape, gradientMomentsOfRows, type RowWriter } from './gradient-moments.js';
import { throwIfAborted } from './abort.js';
import { checkInput, countNonFinite } from './input.js';
import type { MethodName, Modifiers } from './method-name.js';
import { modifierFactor } from './modifiers.js';
import type { ResolvedOptions } from './options.js';
import { numClasses, resolveTargets } from './targets.js';

/** VarGrad values below this magnitude are float noise and are set to exactly 0 (spec). */
export const VARIANCE_ZERO_THRESHOLD = 1e-10;

/** Per-example σ: absolute, or `noiseLevel · (max x_b − min x_b)`. */
export function sigmaOfExample(options: ResolvedOptions, x: { data: ArrayLike<number> }, exampleSize: number) {
  return (example: number): number => {
    if (options.sigma.kind === 'scale') return options.sigma.value;
    let lo = Infinity;
    let hi = -Infinity;
    for (let e = example * exampleSize; e < (example + 1) * exampleSize; e++) {
      lo = Math.min(lo, x.data[e]!);
      hi = Math.max(hi, x.data[e]!);
    }
    return options.sigma.value * (hi - lo);
  };
}

/** The noise ε added to the samples: the caller's, or the seeded generator's scaled by σ. */
export function noiseOf(options: ResolvedOptions, x: HostTensor): NoiseFunction {
  const exampleSize = sizeOf(x.shape.slice(1));
  if (options.noise === undefined) return seededNoise(options.seed, sigmaOfExample(options, x, exampleSize));
  const supplied = suppliedNoise(options.noise, x.shape, options.numSamples);
  // A tensor is checked whole before any work; a function's output as it comes.
  if (typeof options.noise !== 'function') {
    checkInput(options.noise, 'noise');
    return supplied;
  }
  return (example, sample, out) => {
    supplied(example, sample, out);
    const bad = countNonFinite(out, [out.length]);
    if (bad.count > 0) {
      throw new AttributionError(
        'NON_FINITE_INPUT',
        `noise function returned ${bad.count} non-finite value${bad.count === 1 ? '' : 's'} (NaN or ±Infinity) ` +
          `for example ${example}, sample ${sample}: ${bad.shown}`,
      );
    }
  };
}

/** The baseline of Integrated Gradients as one value per element of the input. */
export function baselineOf(options: ResolvedOptions, x: HostTensor): (flatIndex: number) => number {
  const { baseline } = options;
  if (typeof baseline === 'number') return () => baseline;
  checkInput({ data: baseline.data, shape: [1, ...baseline.shape] }, 'baseline');
  const exampleSize = sizeOf(x.shape.slice(1));
  if (baseline.data.length === x.data.length) return (i) => baseline.data[i]!;
  if (baseline.data.length === exampleSize) return (i) => baseline.data[i % exampleSize]!;
  throw new AttributionError(
    'INVALID_OPTION',
    `baseline has shape ${formatShape(baseline.shape)}; expected the input's shape ${formatShape(x.shape)} ` +
      `or one example's ${formatShape(x.shape.slice(1))}`,
  );
}

/**
 * Computes `method` for the batch `x` on `backend`: checks everything before
 * any model work, resolves the targets from one clean forward pass, then runs
 * the method's model rows in chunks and applies its modifiers.
 */
export async function attribute(
  backend: GradientBackend,
  method: MethodName,
  x: HostTensor,
  options: ResolvedOptions,
): Promise<HostTensor> {
  checkInput(x);
  backend.checkInputShape?.(x.shape);
  const { signal } = options;
  const batch = x.shape[0]!;
  const exampleShape = x.shape.slice(1);
  const size = sizeOf(exampleShape);
  const { base } = method;
  const noise = base === 'smoothgrad' || base === 'smoothgrad_squared' || base === 'vargrad' ? noiseOf(options, x) : undefined;
  const baseline = base === 'integrated_gradients' ? baselineOf(options, x) : undefined;

  throwIfAborted(signal, undefined);
  const logits = await backend.logits(x);
  const classes = numClasses(logits, batch, backend.name);
  const targets = resolveTargets(options.target, batch, classes, () => logits);

  const map = new Float32Array(x.data.length);
  if (base === 'gradient') {
    for (let first = 0; first < batch; first += options.batchSize) {
      throwIfAborted(signal, { done: first, total: batch });
      const rows = Math.min(options.batchSize, batch - first);
      const chunk: HostTensor = { data: x.data.subarray(first * size, (first + rows) * size), shape: [rows, ...exampleShape] };
      const gradients = await backend.gradients(chunk, targets.subarray(first, first + rows));
      expectShape(backend, 'gradients()', gradients, chunk.shape);
      map.set(gradients.data, first * size);
      options.onProgress?.({ done: first + rows, total: batch });
    }
  } else {
    let rowsPerExample: number;
    let writeRow: RowWriter;
    if (noise) {
      rowsPerExample = options.numSamples;
      writeRow = (example, sample, out) => {
        noise(example, sample, out);
        const offset = example * size;
        for (let e = 0; e < size; e++) out[e] = x.data[offset + e]! + out[e]!;
      };
    } else {
      const at = baseline!;
      rowsPerExample = options.steps;
      // Path point k of m (k = 1..m): x' + (k/m)(x − x').
      writeRow = (example, step, out) => {
        const alpha = (step + 1) / options.steps;
        const offset = example * size;
        for (let e = 0; e < size; e++) out[e] = at(offset + e) + alpha * (x.data[offset + e]! - at(offset + e));
      };
    }
    const moments = await gradientMomentsOfRows(
      backend, exampleShape, targets, rowsPerExample, options.batchSize, writeRow, options.onProgress, signal,
    );
    moments.forEach((m, example) => {
      const values =
        base === 'vargrad' ? m.variance(options.unbiased) : base === 'smoothgrad_squared' ? m.meanOfSquares() : m.mean;
      const offset = example * size;
      for (let e = 0; e < size; e++) {
        let v = values[e]!;
        if (base === 'vargrad' && Math.abs(v) < VARIANCE_ZERO_THRESHOLD) v = 0;
        if (base === 'integrated_gradients') v *= x.data[offset + e]! - baseline!(offset + e);
        map[offset + e] = v;
      }
    });
  }
  applyModifiers(map, x.data, { ...method.modifiers, mu: options.mu });
  return { data: map, shape: [...x.shape] };
}

/** Multiplies the map in place by the method's ×input and ×sign factors. */
export function applyModifiers(map: Float32Array | Float64Array, x: ArrayLike<number>, modifiers: Modifiers): void {
  if (!modifiers.input && !modifiers.sign) return;
  for (let i = 0; i < map.length; i++) map[i] = map[i]! * modifierFactor(x[i]!, modifiers);
}
