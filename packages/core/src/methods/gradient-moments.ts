import type { GradientBackend } from '../backend.js';
import { MomentAccumulator } from '../stats/moments.js';
import { AttributionError } from '../errors.js';
import { formatShape, sizeOf, type HostTensor } from '../tensor.js';
import type { Progress } from './options.js';
import { planRowCalls } from './row-plan.js';
import { throwIfAborted } from './abort.js';

/** Writes model row `row` of example `example` (a noisy sample, a path point) into `out`. */
export type RowWriter = (example: number, row: number, out: Float32Array) => void;

/**
 * Runs `rowsPerExample` model rows per example through the backend, in calls
 * of at most `batchSize` rows, and returns each example's running moments of
 * the input gradients. Uses the backend's on-device reduction when it has
 * one; otherwise reduces the returned gradients here. `signal` is checked
 * before each call.
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
): Promise<MomentAccumulator[]> {
  const examples = targets.length;
  const size = sizeOf(exampleShape);
  const accumulators = Array.from({ length: examples }, () => new MomentAccumulator(size));
  const total = examples * rowsPerExample;
  let done = 0;
  for (const call of planRowCalls(examples, rowsPerExample, batchSize)) {
    throwIfAborted(signal, { done, total });
    const rows = call.groups * call.groupSize;
    const data = new Float32Array(rows * size);
    const rowTargets = new Int32Array(rows);
    for (let g = 0; g < call.groups; g++) {
      const example = call.firstExample + g;
      for (let i = 0; i < call.groupSize; i++) {
        const r = g * call.groupSize + i;
        writeRow(example, call.firstRow + i, data.subarray(r * size, (r + 1) * size));
        rowTargets[r] = targets[example]!;
      }
    }
    const x: HostTensor = { data, shape: [rows, ...exampleShape] };
    if (backend.gradientMoments) {
      const moments = await backend.gradientMoments(x, rowTargets, call.groupSize);
      expectShape(backend, 'gradientMoments().mean', moments.mean, [call.groups, ...exampleShape]);
      expectShape(backend, 'gradientMoments().m2', moments.m2, [call.groups, ...exampleShape]);
      for (let g = 0; g < call.groups; g++) {
        accumulators[call.firstExample + g]!.merge(moments.count, moments.mean.data, moments.m2.data, g * size);
      }
    } else {
      const gradients = await backend.gradients(x, rowTargets);
      expectShape(backend, 'gradients()', gradients, x.shape);
      for (let r = 0; r < rows; r++) {
        accumulators[call.firstExample + Math.floor(r / call.groupSize)]!.add(gradients.data, r * size);
      }
    }
    done += rows;
    onProgress?.({ done, total });
  }
  return accumulators;
}

/** Refuses a backend result of the wrong shape, which would otherwise be read out of bounds. */
export function expectShape(
  backend: GradientBackend,
  what: string,
  tensor: HostTensor,
  shape: readonly number[],
): void {
  if (tensor.data.length !== sizeOf(shape) || tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
    throw new AttributionError(
      'BACKEND_OUTPUT',
      `${backend.name}: ${what} returned shape ${formatShape(tensor.shape)} with ${tensor.data.length} values; expected ${formatShape(shape)}`,
    );
  }
}
