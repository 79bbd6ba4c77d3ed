import type { GradientBackend, GradientMoments, RowGradients } from '../backend.js';
import type { NoiseDescription } from '../noise/noise-description.js';
import { MomentAccumulator } from '../stats/moments.js';
import { AttributionError } from '../errors.js';
import { formatShape, sizeOf, type HostTensor } from '../tensor.js';
import { throwIfAborted } from './abort.js';
import type { RowWriter, SeededNoise } from './model-rows.js';
import type { Progress } from './options.js';
import { planRowCalls, rowExamples } from './row-plan.js';

/**
 * Runs `rowsPerExample` model rows per example through the backend, in calls
 * of at most `batchSize` rows, and returns each example's running moments of
 * the input gradients. Uses the backend's on-device reduction when it has
 * one; otherwise reduces the returned gradients here. With `seededNoise` and
 * a backend whose `deviceNoise` is true, the backend receives the clean
 * examples and the noise's description instead of the rows. `signal` is
 * checked before each call.
 */
export async function gradientMomentsOfRows(
  backend: GradientBackend,
  exampleShape: readonly number[],
  targets: Int32Array,
  rowsPerExample: number,
  batchSize: number,
  writeRow: RowWriter,
  onProgress?: (progress: Progress) => void,
  signal?: AbortSignal,
  seededNoise?: SeededNoise,
): Promise<MomentAccumulator[]> {
  const examples = targets.length;
  const size = sizeOf(exampleShape);
  const accumulators = Array.from({ length: examples }, () => new MomentAccumulator(size));
  const total = examples * rowsPerExample;
  let done = 0;
  const onDevice = seededNoise !== undefined && backend.deviceNoise === true && backend.noisyGradientMoments !== undefined;
  for (const call of planRowCalls(examples, rowsPerExample, batchSize)) {
    throwIfAborted(signal, { done, total });
    const rows = call.groups * call.groupSize;
    const rowTargets = new Int32Array(rows);
    for (let r = 0; r < rows; r++) rowTargets[r] = targets[call.firstExample + Math.floor(r / call.groupSize)]!;
    const shape = [rows, ...exampleShape];
    let result: GradientMoments | RowGradients;
    if (onDevice) {
      // The backend makes the noisy rows on its device from the clean examples and the description.
      const clean = seededNoise.x.data.subarray(call.firstExample * size, (call.firstExample + call.groups) * size);
      const sigma = Float64Array.from({ length: call.groups }, (_, g) => seededNoise.sigma(call.firstExample + g));
      const noise: NoiseDescription = {
        seed: seededNoise.seed,
        sigma,
        firstExample: call.firstExample,
        firstSample: call.firstRow,
        samples: call.groupSize,
        exampleShape,
      };
      result = await backend.noisyGradientMoments!({ data: clean, shape: [call.groups, ...exampleShape] }, noise, rowTargets);
    } else {
      const x: HostTensor = { data: new Float32Array(rows * size), shape };
      for (let r = 0; r < rows; r++) {
        const row = x.data.subarray(r * size, (r + 1) * size);
        writeRow(call.firstExample + Math.floor(r / call.groupSize), call.firstRow + (r % call.groupSize), row);
      }
      const request = { examples: rowExamples(call.firstExample, call.groups, call.groupSize) };
      // A backend that cannot reduce these rows on its device returns their gradients, which are reduced here.
      result = backend.gradientMoments
        ? await backend.gradientMoments(x, rowTargets, call.groupSize, request)
        : { gradients: await backend.gradients(x, rowTargets, request) };
    }
    if ('gradients' in result) {
      const { gradients } = result;
      const what = onDevice ? 'noisyGradientMoments().gradients' : backend.gradientMoments ? 'gradientMoments().gradients' : 'gradients()';
      expectShape(backend, what, gradients, shape);
      for (let r = 0; r < rows; r++) {
        accumulators[call.firstExample + Math.floor(r / call.groupSize)]!.add(gradients.data, r * size);
      }
    } else {
      const what = onDevice ? 'noisyGradientMoments()' : 'gradientMoments()';
      expectShape(backend, `${what}.mean`, result.mean, [call.groups, ...exampleShape]);
      expectShape(backend, `${what}.m2`, result.m2, [call.groups, ...exampleShape]);
      for (let g = 0; g < call.groups; g++) {
        accumulators[call.firstExample + g]!.merge(result.count, result.mean.data, result.m2.data, g * size);
      }
    }
    done += rows;
    onProgress?.({ done, total });
  }
  return accumulators;
}

/** Refuses a backend result of the wrong shape, which would otherwise be read out of bounds. */
export function expectShape(backend: GradientBackend, what: string, tensor: HostTensor, shape: readonly number[]): void {
  if (tensor.data.length !== sizeOf(shape) || tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
    throw new AttributionError(
      'BACKEND_OUTPUT',
      `${backend.name}: ${what} returned shape ${formatShape(tensor.shape)} with ${tensor.data.length} values; expected ${formatShape(shape)}`,
    );
  }
}
