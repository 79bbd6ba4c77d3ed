import type { GradientBackend } from '../backend.js';
import { MomentAccumulator } from '../stats/moments.js';
import { AttributionError } from '../errors.js';
import { formatShape, sizeOf, type HostTensor } from '../tensor.js';
import { throwIfAborted } from './abort.js';
import type { RowWriter } from './model-rows.js';
import type { Progress } from './options.js';
import { planRowCalls, rowExamples } from './row-plan.js';

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
    const request = { examples: rowExamples(call.firstExample, call.groups, call.groupSize) };
    // A backend that cannot reduce these rows on its device returns their gradients, which are reduced here.
    const result = backend.gradientMoments
      ? await backend.gradientMoments(x, rowTargets, call.groupSize, request)
      : { gradients: await backend.gradients(x, rowTargets, request) };
    if ('gradients' in result) {
      const { gradients } = result;
      expectShape(backend, backend.gradientMoments ? 'gradientMoments().gradients' : 'gradients()', gradients, x.shape);
      for (let r = 0; r < rows; r++) {
        accumulators[call.firstExample + Math.floor(r / call.groupSize)]!.add(gradients.data, r * size);
      }
    } else {
      expectShape(backend, 'gradientMoments().mean', result.mean, [call.groups, ...exampleShape]);
      expectShape(backend, 'gradientMoments().m2', result.m2, [call.groups, ...exampleShape]);
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
