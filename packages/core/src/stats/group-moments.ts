import type { GradientMoments } from '../backend.js';
import { hostTensor, type HostTensor } from '../tensor.js';
import { MomentAccumulator } from './moments.js';

/**
 * The moments of `GradientMoments` computed on the host: rows `[R, ...S]` in
 * groups of `groupSize` consecutive rows, each group's mean and summed
 * squared deviations accumulated in float64 (Welford) and rounded to float32,
 * as a device would return them.
 */
export function momentsOfGroups(rows: HostTensor, groupSize: number): GradientMoments {
  const [count, ...exampleShape] = rows.shape;
  const size = rows.data.length / count!;
  const groups = count! / groupSize;
  const mean = new Float32Array(groups * size);
  const m2 = new Float32Array(groups * size);
  for (let g = 0; g < groups; g++) {
    const accumulator = new MomentAccumulator(size);
    for (let r = g * groupSize; r < (g + 1) * groupSize; r++) accumulator.add(rows.data, r * size);
    mean.set(accumulator.mean, g * size);
    m2.set(accumulator.m2, g * size);
  }
  return { count: groupSize, mean: hostTensor(mean, [groups, ...exampleShape]), m2: hostTensor(m2, [groups, ...exampleShape]) };
}
