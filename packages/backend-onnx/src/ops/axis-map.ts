import { sizeOf } from '@saliency/core';
import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import type { GradientContext } from './op-definition.js';

/**
 * A linear map along one axis, y[p, o, q] = Σ_i W[o, i]·x[p, i, q], with W of
 * shape [n, d] (row-major): each axis of a separable op (Resize's nearest,
 * linear and cubic interpolation; Pad's reflect, edge and wrap) is one.
 */
export interface AxisMap {
  readonly axis: number;
  /** Output and input lengths along the axis. */
  readonly n: number;
  readonly d: number;
  readonly weights: Float64Array;
}

/** The one-hot map taking output position o from input position source[o]. */
export function selectionMap(axis: number, d: number, source: ArrayLike<number>): AxisMap {
  const n = source.length;
  const weights = new Float64Array(n * d);
  for (let o = 0; o < n; o++) weights[o * d + source[o]!] = 1;
  return { axis, n, d, weights };
}

/** The maps applied in order to a float64 tensor (the ops' `evaluate`). */
export function applyAxisMaps(x: ConstTensor, maps: readonly AxisMap[]): ConstTensor {
  let dims = [...x.dims];
  let values = x.values;
  for (const { axis, n, d, weights } of maps) {
    const outer = sizeOf(dims.slice(0, axis));
    const inner = sizeOf(dims.slice(axis + 1));
    const next = new Float64Array(outer * n * inner);
    for (let p = 0; p < outer; p++) {
      for (let o = 0; o < n; o++) {
        for (let i = 0; i < d; i++) {
          const w = weights[o * d + i]!;
          if (w === 0) continue;
          const from = (p * d + i) * inner;
          const to = (p * n + o) * inner;
          for (let q = 0; q < inner; q++) next[to + q] = next[to + q]! + w * values[from + q]!;
        }
      }
    }
    dims = dims.map((m, a) => (a === axis ? n : m));
    values = next;
  }
  return constTensor(x.dataType, dims, values);
}

/**
 * x̄ = the transposed maps applied to ȳ in reverse order: per map, ȳ as
 * [p, n, q] and the literal Wᵀ [d, n] multiplied in, broadcast over p.
 */
export function emitTransposedAxisMaps(g: GradientContext, dy: string, outShape: readonly number[], maps: readonly AxisMap[]): string {
  const shape = [...outShape];
  let gradient = dy;
  let held: readonly number[] = outShape;
  for (const { axis, n, d, weights } of [...maps].reverse()) {
    const outer = sizeOf(shape.slice(0, axis));
    const inner = sizeOf(shape.slice(axis + 1));
    const transposed = new Float64Array(d * n);
    for (let o = 0; o < n; o++) for (let i = 0; i < d; i++) transposed[i * n + o] = weights[o * d + i]!;
    const rows = g.reshape(gradient, outer === 1 ? [n, inner] : [outer, n, inner], held);
    gradient = g.op('MatMul', [g.literal(transposed, [d, n], g.input(0).dataType), rows]);
    held = outer === 1 ? [d, inner] : [outer, d, inner];
    shape[axis] = d;
  }
  return g.reshape(gradient, g.input(0).shape, held);
}
