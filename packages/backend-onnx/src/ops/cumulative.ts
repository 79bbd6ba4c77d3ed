import { sizeOf } from '@saliency/core';
import { constTensor } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import { requireOpset, storeAs } from './rule-helpers.js';
import type { NodeContext, OpDefinition } from './op-definition.js';
import { normalizeAxis } from './tensor-math.js';

/** CumSum's axis (input 1, a known scalar or one-element tensor) and flags. */
function cumSumGeometry(ctx: NodeContext): { axis: number; exclusive: boolean; reverse: boolean } {
  requireOpset(ctx, 11);
  const axis = ctx.constant(1);
  if (axis === undefined || axis.values.length !== 1) ctx.fail('axis (input 1) must be one integer known when the model is built');
  return {
    axis: normalizeAxis(axis!.values[0]!, ctx.input(0).shape.length, ctx.fail),
    exclusive: ctx.attributes.int('exclusive', 0) !== 0,
    reverse: ctx.attributes.int('reverse', 0) !== 0,
  };
}

/**
 * y_i = Σ x_j over j ≤ i (j < i when exclusive; j ≥ i, j > i when reverse),
 * so x̄_j = Σ ȳ_i over the i whose sum holds j: the cumulative sum of ȳ the
 * other way round, with the same exclusiveness.
 */
export const CUMSUM_OP: OpDefinition = {
  opType: 'CumSum',
  inferTypes: (ctx) => {
    cumSumGeometry(ctx);
    return [ctx.input(0)];
  },
  evaluate: (ctx) => {
    const x = ctx.constant(0);
    if (x === undefined) return undefined;
    const { axis, exclusive, reverse } = cumSumGeometry(ctx);
    const d = x.dims[axis]!;
    const inner = sizeOf(x.dims.slice(axis + 1));
    const outer = sizeOf(x.dims.slice(0, axis));
    const values = new Float64Array(x.values.length);
    for (let p = 0; p < outer; p++) {
      for (let q = 0; q < inner; q++) {
        let sum = 0;
        for (let s = 0; s < d; s++) {
          const k = p * d * inner + (reverse ? d - 1 - s : s) * inner + q;
          if (exclusive) {
            values[k] = storeAs(x.dataType, sum);
            sum += x.values[k]!;
          } else {
            sum += x.values[k]!;
            values[k] = storeAs(x.dataType, sum);
          }
        }
      }
    }
    return [constTensor(x.dataType, x.dims, values)];
  },
  gradient: (g) => {
    if (!g.needsGradient(0)) return [undefined, undefined];
    const { axis, exclusive, reverse } = cumSumGeometry(g);
    const attributes = { exclusive: { int: exclusive ? 1 : 0 }, reverse: { int: reverse ? 0 : 1 } };
    return [g.op('CumSum', [g.dy(0)!, g.literal([axis], [], DataType.INT64)], attributes), undefined];
  },
};
