import { emitTransposedAxisMaps, selectionMap } from './axis-map.js';
import { emitPad, emitSlice, intsOperand, normalizeAxes, remapAxes } from './layout.js';
import type { NodeContext, OpDefinition } from './op-definition.js';

const MODES = ['constant', 'reflect', 'edge', 'wrap'];

/**
 * Pad's mode and pads over every axis, [b_0 … b_{r−1}, e_0 … e_{r−1}]:
 * attributes pads, mode and value before opset 11; from 11, pads and
 * constant_value as inputs, and from 18 an axes input naming the padded axes.
 * Negative pads crop.
 */
function padGeometry(ctx: NodeContext): { mode: string; pads: number[]; shape: number[] } {
  const input = ctx.input(0).shape;
  const rank = input.length;
  const mode = ctx.attributes.string('mode', 'constant');
  if (!MODES.includes(mode) || (mode === 'wrap' && ctx.opset < 19)) {
    ctx.fail(`mode "${mode}" is not supported; expected one of "constant", "reflect", "edge"${ctx.opset >= 19 ? ', "wrap"' : ''}`);
  }
  const given = intsOperand(ctx, 'pads', 1, 11) ?? ctx.fail('pads must be given');
  const axes = ctx.opset >= 18 && ctx.hasInput(3) ? normalizeAxes(intsOperand(ctx, 'axes', 3, 18)!, rank, ctx) : input.map((_, a) => a);
  if (given.length !== 2 * axes.length) ctx.fail(`pads [${given.join(', ')}] must have ${2 * axes.length} entries`);
  const pads = new Array<number>(2 * rank).fill(0);
  axes.forEach((axis, i) => {
    pads[axis] = given[i]!;
    pads[rank + axis] = given[axes.length + i]!;
  });
  const shape = input.map((d, a) => d + pads[a]! + pads[rank + a]!);
  if (shape.some((d) => d < 0)) ctx.fail(`pads [${given.join(', ')}] crop more than [${input.join(', ')}] holds`);
  return { mode, pads, shape };
}

/** The source coordinate of output coordinate i along an axis (−1: the constant), cropping first, then padding. */
function padTable(mode: string, d: number, before: number, after: number, size: number): Int32Array {
  const cropped = d - Math.max(-before, 0) - Math.max(-after, 0);
  const offset = Math.max(-before, 0);
  const lead = Math.max(before, 0);
  const table = new Int32Array(size);
  for (let o = 0; o < size; o++) {
    let i = o - lead;
    if (i < 0 || i >= cropped) {
      if (mode === 'constant' || cropped === 0) {
        table[o] = -1;
        continue;
      }
      if (mode === 'edge') i = Math.min(Math.max(i, 0), cropped - 1);
      else if (mode === 'wrap') i = ((i % cropped) + cropped) % cropped;
      else if (cropped === 1) i = 0;
      else {
        const period = 2 * (cropped - 1);
        const m = ((i % period) + period) % period;
        i = m < cropped ? m : period - m;
      }
    }
    table[o] = i + offset;
  }
  return table;
}

/**
 * y = pad(x, b, e) with a constant: x̄ = ȳ[b : b + d] per axis, and where a
 * pad is negative (a crop), the cropped part of x̄ is zero: a Slice of the
 * positive pads, then a zero Pad of the negative ones. The constant's
 * cotangent is the sum of ȳ over the padding: Σ ȳ − Σ x̄. In the other
 * modes each padded axis copies input positions (padTable), a one-hot map
 * per axis, whose transposes take ȳ back to x̄.
 */
export const PAD_OP: OpDefinition = {
  opType: 'Pad',
  inferTypes: (ctx) => [{ dataType: ctx.input(0).dataType, shape: padGeometry(ctx).shape }],
  evaluate: (ctx) => {
    const x = ctx.constant(0);
    if (x === undefined) return undefined;
    let value = ctx.opset < 11 ? ctx.attributes.float('value', 0) : 0;
    if (ctx.opset >= 11 && ctx.hasInput(2)) {
      const constant = ctx.constant(2);
      if (constant === undefined) return undefined;
      value = constant.values[0] ?? 0;
    }
    const { mode, pads, shape } = padGeometry(ctx);
    const rank = shape.length;
    const tables = shape.map((n, a) => padTable(mode, x.dims[a]!, pads[a]!, pads[rank + a]!, n));
    return [remapAxes(x, shape, tables, value)];
  },
  gradient: (g) => {
    const grads: Array<string | undefined> = new Array(g.inputCount).fill(undefined);
    const needsValue = g.opset >= 11 && g.needsGradient(2);
    if (!g.needsGradient(0) && !needsValue) return grads;
    const { mode, pads, shape } = padGeometry(g);
    const input = g.input(0).shape;
    const rank = input.length;
    if (mode !== 'constant') {
      const axes = input.flatMap((_, a) => (pads[a] !== 0 || pads[rank + a] !== 0 ? [a] : []));
      const maps = axes.map((a) => selectionMap(a, input[a]!, padTable(mode, input[a]!, pads[a]!, pads[rank + a]!, shape[a]!)));
      grads[0] = g.needsGradient(0) ? emitTransposedAxisMaps(g, g.dy(0)!, shape, maps) : undefined;
      return grads;
    }
    const padded = input.flatMap((_, a) => (pads[a]! > 0 || pads[rank + a]! > 0 ? [a] : []));
    let dx = g.dy(0)!;
    if (padded.length > 0) {
      const starts = padded.map((a) => Math.max(pads[a]!, 0));
      const ends = padded.map((a) => shape[a]! - Math.max(pads[rank + a]!, 0));
      dx = emitSlice(g, dx, starts, ends, padded);
    }
    dx = emitPad(
      g,
      dx,
      pads.map((p) => Math.max(-p, 0)),
    );
    if (g.needsGradient(0)) grads[0] = dx;
    if (needsValue) {
      const all = (r: number) => Array.from({ length: r }, (_, a) => a);
      const total = g.reduce('ReduceSum', g.dy(0)!, g.output(0).shape, all(rank), false);
      const inner = g.reduce('ReduceSum', dx, g.input(0).shape, all(rank), false);
      grads[2] = g.reshape(g.op('Sub', [total, inner]), g.input(2).shape);
    }
    return grads;
  },
};
