import type { ConstTensor } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import type { GradientContext, GradientRule, NodeContext, OpDefinition, TensorType } from './op-definition.js';
import { broadcastMap, broadcastShapes } from './tensor-math.js';

/*
 * Helpers the op families share for writing their rules: opset checks,
 * literals and masks of a float type, broadcasting, and element-wise ops
 * evaluated in float64.
 */

/** The op is not in the model's opset: fail before ONNX Runtime does, with a message that says why. */
export function requireOpset(ctx: NodeContext, since: number): void {
  if (ctx.opset < since) ctx.fail(`${ctx.node.opType} exists from opset ${since}; the model imports opset ${ctx.opset}`);
}

/** A constant of a float type; float32 written and cast where the type has no literal writer (float16). */
export function literalOf(g: GradientContext, values: ArrayLike<number>, dims: readonly number[], dataType: DataType): string {
  if (dataType === DataType.FLOAT || dataType === DataType.DOUBLE) return g.literal(values, dims, dataType);
  return g.op('Cast', [g.literal(values, dims)], { to: { int: dataType } });
}

/** A rank-0 constant of a float type, broadcast against anything. */
export function scalar(g: GradientContext, value: number, dataType: DataType): string {
  return literalOf(g, [value], [], dataType);
}

/** A boolean tensor as 0/1 of `dataType`. */
export function maskOf(g: GradientContext, condition: string, dataType: DataType): string {
  return g.op('Cast', [condition], { to: { int: dataType } });
}

/**
 * [t = 0] as 0/1 of `dataType`: Equal, which takes floats from opset 11, or
 * 1 − [t > 0] − [t < 0] before.
 */
export function zeroMaskOf(g: GradientContext, t: string, dataType: DataType): string {
  const zero = scalar(g, 0, dataType);
  if (g.opset >= 11) return maskOf(g, g.op('Equal', [t, zero]), dataType);
  const nonzero = g.op('Add', [maskOf(g, g.op('Greater', [t, zero]), dataType), maskOf(g, g.op('Less', [t, zero]), dataType)]);
  return g.op('Sub', [scalar(g, 1, dataType), nonzero]);
}

/**
 * Where every one of `conditions` (boolean tensors, at least one) holds, as 0/1
 * of `dataType`: their And, or the product of their masks on an execution
 * provider without And.
 */
export function maskOfAll(g: GradientContext, conditions: readonly string[], dataType: DataType): string {
  if (g.supports('logicalAnd'))
    return maskOf(
      g,
      conditions.reduce((a, b) => g.op('And', [a, b])),
      dataType,
    );
  return conditions.map((c) => maskOf(g, c, dataType)).reduce((a, b) => g.op('Mul', [a, b]));
}

/** A value stored in `dataType`: integer types wrap to their width, as ONNX Runtime's arithmetic does. */
export function storeAs(dataType: DataType, v: number): number {
  switch (dataType) {
    case DataType.INT32:
      return v | 0;
    case DataType.INT16:
      return (v << 16) >> 16;
    case DataType.INT8:
      return (v << 24) >> 24;
    case DataType.UINT8:
      return v & 0xff;
    case DataType.UINT16:
      return v & 0xffff;
    case DataType.UINT32:
      return v >>> 0;
    case DataType.BOOL:
      return v !== 0 ? 1 : 0;
    default:
      return v;
  }
}

/** The given inputs' constant values, or undefined when one is not known. */
export function constantInputs(ctx: NodeContext): ConstTensor[] | undefined {
  const values: ConstTensor[] = [];
  for (let i = 0; i < ctx.inputCount; i++) {
    if (!ctx.hasInput(i)) continue;
    const value = ctx.constant(i);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return values;
}

/** The type of an op over NumPy-broadcast inputs (all given inputs, or those listed). */
export function broadcastType(ctx: NodeContext, dataType: DataType, inputs?: readonly number[]): TensorType {
  const indices = inputs ?? Array.from({ length: ctx.inputCount }, (_, i) => i).filter((i) => ctx.hasInput(i));
  const shapes = indices.map((i) => ctx.input(i).shape);
  const shape = broadcastShapes(...shapes);
  if (shape === undefined) ctx.fail(`input shapes ${shapes.map((s) => `[${s.join(', ')}]`).join(', ')} do not broadcast`);
  return { dataType, shape: shape! };
}

/** Evaluates `fn` over the broadcast constant inputs, storing the result in `dataType`. */
export function evaluateElementwise(ctx: NodeContext, dataType: DataType, fn: (...values: number[]) => number): ConstTensor[] | undefined {
  const inputs = constantInputs(ctx);
  if (inputs === undefined) return undefined;
  return [broadcastMap(inputs, dataType, (...values) => storeAs(dataType, fn(...values)))];
}

/** The cotangent of input `i`, given one of the output's shape. */
export function toInput(g: GradientContext, i: number, full: string): string {
  return g.unbroadcast(full, g.output(0).shape, g.input(i).shape);
}

/** An op on one tensor, its output of the same type. */
export function unary(opType: string, fn: (x: number) => number, gradient: GradientRule | 'none', since = 7): OpDefinition {
  return {
    opType,
    inferTypes: (ctx) => {
      requireOpset(ctx, since);
      return [ctx.input(0)];
    },
    evaluate: (ctx) => evaluateElementwise(ctx, ctx.input(0).dataType, fn),
    gradient,
  };
}

/** Abs'(x) = sign(x), 0 at 0 (docs/methods.md, "Ties and kinks"): Sign from opset 9 where the target has it, else two comparison masks. */
export function signOf(g: GradientContext, x: string, dataType: DataType): string {
  if (g.opset >= 9 && g.supports('sign')) return g.op('Sign', [x]);
  const zero = scalar(g, 0, dataType);
  return g.op('Sub', [maskOf(g, g.op('Greater', [x, zero]), dataType), maskOf(g, g.op('Less', [x, zero]), dataType)]);
}
