import { sizeOf } from '@saliency/core';
import { constTensor } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import { scatterAlongAxis } from './scatter.js';
import type { NodeContext, OpDefinition } from './op-definition.js';
import { normalizeAxis } from './tensor-math.js';

/** TopK's axis, k (attribute before opset 10, a known input from it) and order. */
function topKGeometry(ctx: NodeContext): { axis: number; k: number; largest: boolean; shape: number[] } {
  const input = ctx.input(0).shape;
  const axis = normalizeAxis(ctx.attributes.int('axis', -1), input.length, ctx.fail);
  let k: number | undefined;
  if (ctx.opset < 10) k = ctx.attributes.int('k');
  else {
    const given = ctx.constant(1);
    if (given === undefined || given.values.length !== 1) ctx.fail('K (input 1) must be one integer known when the model is built');
    k = given!.values[0];
  }
  if (k === undefined || !Number.isInteger(k) || k < 0 || k > input[axis]!)
    ctx.fail(`k ${k} is out of range for an axis of size ${input[axis]}`);
  if (ctx.opset >= 11 && ctx.attributes.int('sorted', 1) === 0) ctx.fail('sorted = 0 is not supported (its order is unspecified)');
  const largest = ctx.opset < 11 || ctx.attributes.int('largest', 1) !== 0;
  return { axis, k: k!, largest, shape: input.map((d, a) => (a === axis ? k! : d)) };
}

/**
 * Values and Indices of the k largest (or smallest) along an axis, sorted;
 * equal values in index order, as ONNX Runtime orders them. Values are x
 * gathered at Indices, so x̄ scatters ȳ back there; Indices carry none.
 */
export const TOP_K_OP: OpDefinition = {
  opType: 'TopK',
  inferTypes: (ctx) => {
    const { shape } = topKGeometry(ctx);
    return [
      { dataType: ctx.input(0).dataType, shape },
      { dataType: DataType.INT64, shape },
    ];
  },
  evaluate: (ctx) => {
    const x = ctx.constant(0);
    if (x === undefined) return undefined;
    const { axis, k, largest, shape } = topKGeometry(ctx);
    const d = x.dims[axis]!;
    const inner = sizeOf(x.dims.slice(axis + 1));
    const outer = sizeOf(x.dims.slice(0, axis));
    const values = new Float64Array(sizeOf(shape));
    const indices = new Float64Array(sizeOf(shape));
    for (let p = 0; p < outer; p++) {
      for (let q = 0; q < inner; q++) {
        const at = (m: number) => x.values[(p * d + m) * inner + q]!;
        const order = Array.from({ length: d }, (_, m) => m).sort((a, b) =>
          at(a) === at(b) ? a - b : largest ? at(b) - at(a) : at(a) - at(b),
        );
        for (let j = 0; j < k; j++) {
          values[(p * k + j) * inner + q] = at(order[j]!);
          indices[(p * k + j) * inner + q] = order[j]!;
        }
      }
    }
    return [constTensor(x.dataType, shape, values), constTensor(DataType.INT64, shape, indices)];
  },
  gradient: (g) => {
    const dy = g.dy(0);
    if (!g.needsGradient(0) || dy === undefined) return [undefined, undefined];
    const { axis } = topKGeometry(g);
    return [scatterAlongAxis(g, dy, g.forwardOutput(1), axis, g.input(0).shape), undefined];
  },
};
