import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import type { NodeContext, OpDefinition, TensorType } from './op-definition.js';

/**
 * Ops whose outputs are known when the model is built (from static shapes or
 * constant inputs): they fold away and carry no gradient.
 */

const tensorTypeOf = (t: ConstTensor): TensorType => ({ dataType: t.dataType, shape: t.dims });

/** An op whose output is always a constant: its type is that of its value. */
function constantOp(opType: string, value: (ctx: NodeContext) => ConstTensor): OpDefinition {
  return { opType, inferTypes: (ctx) => [tensorTypeOf(value(ctx))], evaluate: (ctx) => [value(ctx)], gradient: 'none' };
}

/** Shape's dimensions start … end (opset 15; negative from the end, clamped to [0, rank]). */
function shapeOf(ctx: NodeContext): ConstTensor {
  const shape = ctx.input(0).shape;
  const rank = shape.length;
  const bound = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const start = ctx.opset >= 15 ? bound(ctx.attributes.int('start', 0)) : 0;
  const end = ctx.opset >= 15 ? bound(ctx.attributes.int('end', rank)) : rank;
  const dims = shape.slice(start, Math.max(start, end));
  return constTensor(DataType.INT64, [dims.length], dims);
}

/** Constant's value from whichever of its value attributes is given. */
function constantValue(ctx: NodeContext): ConstTensor {
  const a = ctx.attributes;
  if (a.has('value')) return a.tensor('value')!;
  if (a.has('value_float')) return constTensor(DataType.FLOAT, [], [a.float('value_float')!]);
  if (a.has('value_floats')) return constTensor(DataType.FLOAT, [a.floats('value_floats')!.length], a.floats('value_floats')!);
  if (a.has('value_int')) return constTensor(DataType.INT64, [], [a.int('value_int')!]);
  if (a.has('value_ints')) return constTensor(DataType.INT64, [a.ints('value_ints')!.length], a.ints('value_ints')!);
  const other = ctx.node.attribute[0]?.name;
  return ctx.fail(
    `${other === undefined ? 'no value attribute is given' : `attribute ${other} is not supported`}; ` +
      'expected one of value, value_float, value_floats, value_int, value_ints',
  );
}

function constantOfShape(ctx: NodeContext): ConstTensor {
  const shape = ctx.constant(0);
  if (shape === undefined) ctx.fail('the shape (input 0) must be known when the model is built');
  const dims = Array.from(shape!.values);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) ctx.fail(`shape [${dims.join(', ')}] is not a shape`);
  const value = ctx.attributes.tensor('value') ?? constTensor(DataType.FLOAT, [1], [0]);
  if (value.values.length !== 1) ctx.fail('value must hold exactly one element');
  ctx.checkFoldable(dims);
  return constTensor(value.dataType, dims, new Float64Array(dims.reduce((n, d) => n * d, 1)).fill(value.values[0]!));
}

/** Range: start + i·delta for i < max(⌈(limit − start)/delta⌉, 0), in the inputs' type. */
function range(ctx: NodeContext): ConstTensor {
  const [start, limit, delta] = [0, 1, 2].map((i) => {
    const value = ctx.constant(i);
    if (value === undefined) ctx.fail(`input ${i} must be known when the model is built`);
    return value!;
  }) as [ConstTensor, ConstTensor, ConstTensor];
  const [s, l, d] = [start.values[0]!, limit.values[0]!, delta.values[0]!];
  if (d === 0) ctx.fail('delta is 0');
  const count = Math.max(Math.ceil((l - s) / d), 0);
  if (!Number.isFinite(count)) ctx.fail(`start ${s}, limit ${l} and delta ${d} give no finite length`);
  ctx.checkFoldable([count]);
  return constTensor(
    start.dataType,
    [count],
    Array.from({ length: count }, (_, i) => s + i * d),
  );
}

export const CONSTANT_OPS: readonly OpDefinition[] = [
  constantOp('Shape', shapeOf),
  constantOp('Size', (ctx) => constTensor(DataType.INT64, [], [ctx.input(0).shape.reduce((n, d) => n * d, 1)])),
  constantOp('Constant', constantValue),
  constantOp('ConstantOfShape', constantOfShape),
  constantOp('Range', range),
];
