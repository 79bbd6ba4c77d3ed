import { sizeOf } from '@saliency/core';
import { constTensor } from '../model/const-tensor.js';
import { intsOperand, inversePermutation, normalizeAxes, remapAxes, stridedView, transposePerm, transposeTensor } from './layout.js';
import type { GradientRule, NodeContext, OpDefinition, TensorType } from './op-definition.js';
import { broadcastShapes, stridesOf } from './tensor-math.js';

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

/** An op that only reinterprets its input's layout, with `shapeOf` giving the output's shape. */
function layoutOp(opType: string, shapeOf: (ctx: NodeContext) => number[]): OpDefinition {
  return {
    opType,
    inferTypes: (ctx) => [{ dataType: ctx.input(0).dataType, shape: shapeOf(ctx) }],
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      return x === undefined ? undefined : [constTensor(x.dataType, shapeOf(ctx), x.values)];
    },
    gradient: reshapeBack,
  };
}

/** Squeeze: axes as attribute before opset 13, as input from it; without axes, every axis of size 1. */
function squeezedShape(ctx: NodeContext): number[] {
  const shape = ctx.input(0).shape;
  const given = intsOperand(ctx, 'axes', 1, 13);
  const axes = given === undefined ? shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes(given, shape.length, ctx);
  for (const axis of axes) if (shape[axis] !== 1) ctx.fail(`cannot squeeze axis ${axis} of size ${shape[axis]}`);
  return shape.filter((_, i) => !axes.includes(i));
}

/** Unsqueeze: axes (attribute before opset 13, input from it) index the output, of rank r + |axes|. */
function unsqueezedShape(ctx: NodeContext): number[] {
  const shape = ctx.input(0).shape;
  const given = intsOperand(ctx, 'axes', 1, 13);
  if (given === undefined) ctx.fail('axes must be given');
  const rank = shape.length + given!.length;
  const axes = normalizeAxes(given!, rank, ctx);
  let next = 0;
  return Array.from({ length: rank }, (_, i) => (axes.includes(i) ? 1 : shape[next++]!));
}

/** Expand's output: the input and the target shape broadcast both ways. */
function expandedShape(ctx: NodeContext): number[] {
  const target = ctx.constant(1);
  if (target === undefined) ctx.fail('the target shape (input 1) must be known when the model is built');
  const shape = broadcastShapes(ctx.input(0).shape, Array.from(target!.values));
  if (shape === undefined) ctx.fail(`cannot expand [${ctx.input(0).shape.join(', ')}] to [${Array.from(target!.values).join(', ')}]`);
  return shape!;
}

function tileRepeats(ctx: NodeContext): number[] {
  const repeats = ctx.constant(1);
  if (repeats === undefined) ctx.fail('repeats (input 1) must be known when the model is built');
  const r = Array.from(repeats!.values);
  if (r.length !== ctx.input(0).shape.length || r.some((n) => !Number.isInteger(n) || n < 0)) {
    ctx.fail(`repeats [${r.join(', ')}] must be ${ctx.input(0).shape.length} non-negative integers`);
  }
  return r;
}

/**
 * DepthToSpace and SpaceToDepth are a reshape to 6-D, a transpose and a
 * reshape: `split` is the 6-D shape, `perm` the transpose, `shape` the output.
 */
function blockLayout(ctx: NodeContext): { split: number[]; perm: number[]; shape: number[] } {
  const input = ctx.input(0).shape;
  if (input.length !== 4) ctx.fail(`expects a 4-D input, got rank ${input.length}`);
  const [n, c, h, w] = input as [number, number, number, number];
  const b = ctx.attributes.int('blocksize');
  if (b === undefined || b < 1) ctx.fail('blocksize must be a positive integer');
  const b2 = b! * b!;
  if (ctx.node.opType === 'SpaceToDepth') {
    if (h % b! !== 0 || w % b! !== 0) ctx.fail(`spatial size ${h}×${w} is not divisible by blocksize ${b}`);
    return { split: [n, c, h / b!, b!, w / b!, b!], perm: [0, 3, 5, 1, 2, 4], shape: [n, c * b2, h / b!, w / b!] };
  }
  if (c % b2 !== 0) ctx.fail(`channels ${c} are not divisible by blocksize² = ${b2}`);
  const mode = ctx.attributes.string('mode', 'DCR');
  const shape = [n, c / b2, h * b!, w * b!];
  if (mode === 'DCR') return { split: [n, b!, b!, c / b2, h, w], perm: [0, 3, 4, 1, 5, 2], shape };
  if (mode === 'CRD') return { split: [n, c / b2, b!, b!, h, w], perm: [0, 1, 4, 2, 5, 3], shape };
  return ctx.fail(`mode "${mode}" is not supported; expected "DCR" or "CRD"`);
}

/** Block rearrangement: x̄ = reshape(transpose(reshape(ȳ, split∘perm), perm⁻¹), shape(x)). */
function blockOp(opType: string): OpDefinition {
  return {
    opType,
    inferTypes: (ctx) => [{ dataType: ctx.input(0).dataType, shape: blockLayout(ctx).shape }],
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      if (x === undefined) return undefined;
      const { split, perm, shape } = blockLayout(ctx);
      const moved = transposeTensor(constTensor(x.dataType, split, x.values), perm);
      return [constTensor(x.dataType, shape, moved.values)];
    },
    gradient: (g) => {
      const { split, perm } = blockLayout(g);
      const moved = g.reshape(
        g.dy(0)!,
        perm.map((p) => split[p]!),
      );
      const back = g.op('Transpose', [moved], { perm: { ints: inversePermutation(perm) } });
      return [g.reshape(back, g.input(0).shape)];
    },
  };
}

export const SHAPE_OPS: readonly OpDefinition[] = [
  {
    opType: 'Identity',
    inferTypes: sameType,
    evaluate: (ctx) => (ctx.constant(0) === undefined ? undefined : [ctx.constant(0)!]),
    gradient: (g) => [g.dy(0)],
  },
  layoutOp('Reshape', reshapeTarget),
  layoutOp('Flatten', flattenShape),
  layoutOp('Squeeze', squeezedShape),
  layoutOp('Unsqueeze', unsqueezedShape),
  {
    /** y = transpose(x, p): x̄ = transpose(ȳ, p⁻¹). */
    opType: 'Transpose',
    inferTypes: (ctx) => {
      const { dataType, shape } = ctx.input(0);
      return [{ dataType, shape: transposePerm(ctx, shape.length).map((p) => shape[p]!) }];
    },
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      return x === undefined ? undefined : [transposeTensor(x, transposePerm(ctx, x.dims.length))];
    },
    gradient: (g) => [g.op('Transpose', [g.dy(0)!], { perm: { ints: inversePermutation(transposePerm(g, g.input(0).shape.length)) } })],
  },
  {
    /** y = broadcast(x): x̄ = ȳ summed over the broadcast axes. */
    opType: 'Expand',
    inferTypes: (ctx) => [{ dataType: ctx.input(0).dataType, shape: expandedShape(ctx) }],
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      if (x === undefined) return undefined;
      const shape = expandedShape(ctx);
      const lead = shape.length - x.dims.length;
      const strides = stridesOf(x.dims);
      return [
        stridedView(
          x,
          shape,
          shape.map((_, a) => (a < lead || x.dims[a - lead] === 1 ? 0 : strides[a - lead]!)),
        ),
      ];
    },
    gradient: (g) => [g.needsGradient(0) ? g.unbroadcast(g.dy(0)!, g.output(0).shape, g.input(0).shape) : undefined],
  },
  {
    /**
     * y[i] = x[i mod d] per axis, so ȳ reshaped to [r_0, d_0, r_1, d_1, …]
     * summed over the r axes is x̄.
     */
    opType: 'Tile',
    inferTypes: (ctx) => {
      const { dataType, shape } = ctx.input(0);
      const repeats = tileRepeats(ctx);
      return [{ dataType, shape: shape.map((d, a) => d * repeats[a]!) }];
    },
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      if (x === undefined) return undefined;
      const shape = x.dims.map((d, a) => d * tileRepeats(ctx)[a]!);
      return [
        remapAxes(
          x,
          shape,
          shape.map((n, a) => Array.from({ length: n }, (_, o) => o % x.dims[a]!)),
        ),
      ];
    },
    gradient: (g) => {
      if (!g.needsGradient(0)) return [undefined];
      const repeats = tileRepeats(g);
      const split: number[] = [];
      const axes: number[] = [];
      g.input(0).shape.forEach((d, a) => {
        if (repeats[a] !== 1) axes.push(split.push(repeats[a]!) - 1);
        split.push(d);
      });
      if (axes.length === 0) return [g.dy(0)];
      return [g.reduce('ReduceSum', g.reshape(g.dy(0)!, split), split, axes, false)];
    },
  },
  blockOp('DepthToSpace'),
  blockOp('SpaceToDepth'),
];
