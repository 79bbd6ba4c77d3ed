import { constTensor } from '../model/const-tensor.js';
import type { GradientRule, NodeContext, OpDefinition, TensorType } from './op-definition.js';
import { sizeOf } from './tensor-math.js';

/** Reshape's target: 0 copies the input's dimension (unless allowzero), −1 takes what is left. */
function reshapeTarget(ctx: NodeContext): number[] {
  const shape = ctx.constant(1);
  if (shape === undefined) ctx.fail('the target shape (input 1) must be known when the model is built');
  const input = ctx.input(0).shape;
  const allowZero = ctx.attributes.int('allowzero', 0) === 1;
  const target = Array.from(shape!.values, (d, i) => (d === 0 && !allowZero ? input[i]! : d));
  const known = target.filter((d) => d !== -1).reduce((n, d) => n * d, 1);
  const inferred = target.indexOf(-1);
  if (inferred >= 0) target[inferred] = known === 0 ? 0 : sizeOf(input) / known;
  if (!target.every((d) => Number.isInteger(d) && d >= 0) || sizeOf(target) !== sizeOf(input)) {
    ctx.fail(`cannot reshape [${input.join(', ')}] to [${Array.from(shape!.values).join(', ')}]`);
  }
  return target;
}

/** Flatten: [d0 … d(a−1)] × [da …] as a 2-D tensor. */
function flattenShape(ctx: NodeContext): number[] {
  const shape = ctx.input(0).shape;
  let axis = ctx.attributes.int('axis', 1);
  if (axis < 0) axis += shape.length;
  return [sizeOf(shape.slice(0, axis)), sizeOf(shape.slice(axis))];
}

/** The gradient of an op that only reinterprets its input's layout: the cotangent reshaped back. */
const reshapeBack: GradientRule = (g) => [g.reshape(g.dy(0)!, g.input(0).shape)];

const sameType = (ctx: NodeContext): TensorType[] => [ctx.input(0)];

export const SHAPE_OPS: readonly OpDefinition[] = [
  {
    opType: 'Identity',
    inferTypes: sameType,
    evaluate: (ctx) => (ctx.constant(0) === undefined ? undefined : [ctx.constant(0)!]),
    gradient: (g) => [g.dy(0)],
  },
  {
    opType: 'Reshape',
    inferTypes: (ctx) => [{ dataType: ctx.input(0).dataType, shape: reshapeTarget(ctx) }],
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      return x === undefined ? undefined : [constTensor(x.dataType, reshapeTarget(ctx), x.values)];
    },
    gradient: reshapeBack,
  },
  {
    opType: 'Flatten',
    inferTypes: (ctx) => [{ dataType: ctx.input(0).dataType, shape: flattenShape(ctx) }],
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      return x === undefined ? undefined : [constTensor(x.dataType, flattenShape(ctx), x.values)];
    },
    gradient: reshapeBack,
  },
];
