import { DataType } from '../model/data-type.js';
import type { GradientContext } from './op-definition.js';

/**
 * 0/1 of `x`'s type, 1 at the first (lowest-index) maximum or minimum of each
 * row along the last axis of `x` (static `shape`): where ReduceMax, ReduceMin
 * and GlobalMaxPool send their whole cotangent, as MaxPool's indices do.
 *
 * ArgMax/ArgMin (select_last_index = 0) compared with a literal range; where
 * the target lacks them (WebGL), the same one-hot from ops it has: the mask of
 * the extremum's positions weighted by R − i, whose row maximum is at the first
 * of them (integers below 2²⁴: exact in float32).
 */
export function firstExtremumOneHot(g: GradientContext, x: string, shape: readonly number[], extremum: 'max' | 'min'): string {
  const dataType = g.input(0).dataType;
  const last = shape.length - 1;
  const R = shape[last]!;
  const cast = (condition: string) => g.op('Cast', [condition], { to: { int: dataType } });
  if (g.supports('argExtremum')) {
    const index = g.op(extremum === 'max' ? 'ArgMax' : 'ArgMin', [x], {
      axis: { int: last },
      keepdims: { int: 1 },
      ...(g.opset >= 12 ? { select_last_index: { int: 0 } } : {}),
    });
    return cast(
      g.op('Equal', [
        index,
        g.literal(
          Array.from({ length: R }, (_, i) => i),
          [R],
          DataType.INT64,
        ),
      ]),
    );
  }
  const value = g.reduce(extremum === 'max' ? 'ReduceMax' : 'ReduceMin', x, shape, [last], true);
  const weighted = g.op('Mul', [
    cast(g.op('Equal', [x, value])),
    g.literal(
      Array.from({ length: R }, (_, i) => R - i),
      [R],
      dataType,
    ),
  ]);
  const first = g.reduce('ReduceMax', weighted, shape, [last], true);
  return cast(g.op('Equal', [weighted, first]));
}
