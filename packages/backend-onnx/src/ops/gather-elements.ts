import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import { requireOpset } from './rule-helpers.js';
import type { NodeContext, OpDefinition } from './op-definition.js';
import { scatterAlongAxis } from './scatter.js';
import { normalizeAxis, stridesOf } from './tensor-math.js';

function gatherElementsAxis(ctx: NodeContext): number {
  requireOpset(ctx, 11);
  const data = ctx.input(0).shape;
  const indices = ctx.input(1).shape;
  const axis = normalizeAxis(ctx.attributes.int('axis', 0), data.length, ctx.fail);
  if (indices.length !== data.length || indices.some((n, a) => a !== axis && n > data[a]!)) {
    ctx.fail(`indices of shape [${indices.join(', ')}] do not index data of shape [${data.join(', ')}] along axis ${axis}`);
  }
  return axis;
}

function normalizedIndices(ctx: NodeContext, indices: ConstTensor, d: number): number[] {
  return Array.from(indices.values, (i) => {
    if (!Number.isInteger(i) || i < -d || i >= d) ctx.fail(`index ${i} is out of range for an axis of size ${d}`);
    return i < 0 ? i + d : i;
  });
}

/** y[…, j, …] = x[…, idx[…, j, …], …] along axis; indices may be negative. */
export const GATHER_ELEMENTS_OP: OpDefinition = {
  opType: 'GatherElements',
  inferTypes: (ctx) => {
    gatherElementsAxis(ctx);
    return [{ dataType: ctx.input(0).dataType, shape: ctx.input(1).shape }];
  },
  evaluate: (ctx) => {
    const x = ctx.constant(0);
    const indices = ctx.constant(1);
    if (x === undefined || indices === undefined) return undefined;
    const axis = gatherElementsAxis(ctx);
    const index = normalizedIndices(ctx, indices, x.dims[axis]!);
    const outStrides = stridesOf(indices.dims);
    const inStrides = stridesOf(x.dims);
    const values = index.map((m, flat) => {
      let source = 0;
      for (let a = 0; a < indices.dims.length; a++) {
        const o = Math.floor(flat / outStrides[a]!) % indices.dims[a]!;
        source += (a === axis ? m : o) * inStrides[a]!;
      }
      return x.values[source]!;
    });
    return [constTensor(x.dataType, indices.dims, values)];
  },
  gradient: (g) => {
    if (!g.needsGradient(0)) return [undefined, undefined];
    const axis = gatherElementsAxis(g);
    const data = g.input(0).shape;
    const d = data[axis]!;
    const known = g.constant(1);
    let indices: string;
    if (known !== undefined) {
      indices = g.literal(normalizedIndices(g, known, d), known.dims, DataType.INT64);
    } else {
      const raw = g.input(1).dataType === DataType.INT64 ? g.inputName(1) : g.op('Cast', [g.inputName(1)], { to: { int: DataType.INT64 } });
      const negative = g.op('Cast', [g.op('Less', [raw, g.literal([0], [], DataType.INT64)])], { to: { int: DataType.INT64 } });
      indices = g.op('Add', [raw, g.op('Mul', [negative, g.literal([d], [], DataType.INT64)])]);
    }
    return [scatterAlongAxis(g, g.dy(0)!, indices, axis, data), undefined];
  },
};
