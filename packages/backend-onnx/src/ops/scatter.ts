import { DataType } from '../model/data-type.js';
import { emitPad } from './layout.js';
import type { GradientContext } from './op-definition.js';

/**
 * x̄ for y = x gathered along `axis` at `indices` (y[…, j, …] = x[…, idx[…, j, …], …],
 * GatherElements and TopK's values): x̄[…, m, …] = Σ_j [idx[…, j, …] = m]·ȳ[…, j, …].
 * Written without a scatter, which not every execution provider has: the
 * one-hot Equal(idx, m) over a new axis after `axis`, times ȳ, summed over
 * `axis`; then zeros after the end where the indices' other axes are shorter
 * than the data's. `indices` are int64 in [0, d), of ȳ's shape.
 */
export function scatterAlongAxis(g: GradientContext, dy: string, indices: string, axis: number, dataShape: readonly number[]): string {
  const shape = g.output(0).shape;
  const rank = shape.length;
  const d = dataShape[axis]!;
  const spread = [...shape.slice(0, axis + 1), 1, ...shape.slice(axis + 1)];
  const positions = g.literal(
    Array.from({ length: d }, (_, m) => m),
    [d, ...new Array<number>(rank - axis - 1).fill(1)],
    DataType.INT64,
  );
  const type = g.input(0).dataType;
  const oneHot = g.op('Cast', [g.op('Equal', [g.reshape(indices, spread), positions])], { to: { int: type } });
  const weighted = g.op('Mul', [oneHot, g.reshape(dy, spread)]);
  const summed = g.reduce('ReduceSum', weighted, [...shape.slice(0, axis + 1), d, ...shape.slice(axis + 1)], [axis], false);
  const reached = [...shape.slice(0, axis), d, ...shape.slice(axis + 1)];
  return emitPad(g, summed, [...dataShape.map(() => 0), ...dataShape.map((n, a) => n - reached[a]!)]);
}
