import { constTensor, type ConstTensor } from '../model/const-tensor.js';
import { scalar } from './rule-helpers.js';
import { emitSlice, emitSplit } from './layout.js';
import type { GradientContext, NodeContext, OpDefinition } from './op-definition.js';

/*
 * LSTM and GRU with the default activations, unrolled at the static sequence
 * length. The forward node stays as the model has it; the gradient recomputes
 * from its output Y (every step's hidden state, so every step's previous one)
 * the gates of all steps at once, then runs the recurrence of the cotangents
 * step by step (back-propagation through time), one direction at a time.
 */

type Cell = 'LSTM' | 'GRU';

/** Gates per cell, in the order of the weights' blocks: LSTM i, o, f, c; GRU z, r, h. */
const GATES: Record<Cell, number> = { LSTM: 4, GRU: 3 };
const DEFAULT_ACTIVATIONS: Record<Cell, string[]> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'] };

interface RecurrentGeometry {
  readonly cell: Cell;
  /** Sequence length, batch, input size, hidden size, directions. */
  readonly t: number;
  readonly b: number;
  readonly i: number;
  readonly h: number;
  readonly directions: number;
  /** Whether direction d runs backwards in time. */
  readonly reversed: (d: number) => boolean;
  readonly linearBeforeReset: boolean;
}

function recurrentGeometry(ctx: NodeContext): RecurrentGeometry {
  const cell = ctx.node.opType as Cell;
  const x = ctx.input(0).shape;
  if (ctx.attributes.int('layout', 0) !== 0) ctx.fail('layout = 1 (batch first) is not supported');
  if (x.length !== 3) ctx.fail(`X has shape [${x.join(', ')}]; expected [seq_length, batch_size, input_size]`);
  const direction = ctx.attributes.string('direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(direction))
    ctx.fail(`direction "${direction}" is not one of "forward", "reverse", "bidirectional"`);
  const directions = direction === 'bidirectional' ? 2 : 1;
  const [t, b, i] = x as [number, number, number];
  const w = ctx.input(1).shape;
  const h = ctx.attributes.int('hidden_size') ?? (w[1] ?? 0) / GATES[cell];
  const gates = GATES[cell] * h;
  const expect = (index: number, name: string, shape: number[]) => {
    if (!ctx.hasInput(index)) return;
    const given = ctx.input(index).shape;
    if (given.length !== shape.length || given.some((n, a) => n !== shape[a]))
      ctx.fail(`${name} has shape [${given.join(', ')}]; expected [${shape.join(', ')}]`);
  };
  expect(1, 'W', [directions, gates, i]);
  expect(2, 'R', [directions, gates, h]);
  expect(3, 'B', [directions, 2 * gates]);
  expect(5, 'initial_h', [directions, b, h]);
  if (cell === 'LSTM') {
    expect(6, 'initial_c', [directions, b, h]);
    if (ctx.hasInput(7)) ctx.fail('peephole weights P are not supported');
    if (ctx.attributes.int('input_forget', 0) !== 0) ctx.fail('input_forget = 1 is not supported');
  }
  if (ctx.attributes.has('clip')) ctx.fail('clip is not supported');
  const names = ctx.node.attribute.find((a) => a.name === 'activations')?.strings.map((s) => new TextDecoder().decode(s));
  if (names !== undefined) {
    const expected = Array.from({ length: directions }, () => DEFAULT_ACTIVATIONS[cell]).flat();
    if (names === undefined || names.length !== expected.length || names.some((n, k) => n.toLowerCase() !== expected[k]!.toLowerCase())) {
      ctx.fail(`activations [${(names ?? []).join(', ')}] are not supported; only the defaults [${expected.join(', ')}]`);
    }
  }
  if (ctx.hasInput(4)) {
    const lengths = ctx.constant(4);
    if (lengths === undefined || lengths.values.some((n) => n !== t))
      ctx.fail(`sequence_lens must be known and all ${t} (the static sequence length)`);
  }
  const linearBeforeReset = cell === 'GRU' && ctx.attributes.int('linear_before_reset', 0) !== 0;
  return { cell, t, b, i, h, directions, reversed: (d) => direction === 'reverse' || d === 1, linearBeforeReset };
}

function outputTypes(ctx: NodeContext) {
  const { cell, t, b, h, directions } = recurrentGeometry(ctx);
  const dataType = ctx.input(0).dataType;
  const state = { dataType, shape: [directions, b, h] };
  return [{ dataType, shape: [t, directions, b, h] }, state, ...(cell === 'LSTM' ? [state] : [])];
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** The recurrence in float64: outputs Y, Y_h (and Y_c). */
function evaluateRecurrent(ctx: NodeContext): ConstTensor[] | undefined {
  const inputs = [0, 1, 2, 3, 5, 6].map((k) => (ctx.hasInput(k) ? ctx.constant(k) : null));
  if (inputs.some((v) => v === undefined)) return undefined;
  const [x, w, r, bias, h0, c0] = inputs as Array<ConstTensor | null>;
  const geometry = recurrentGeometry(ctx);
  const { cell, t: steps, b: batch, i: inputs_, h: hidden, directions } = geometry;
  const gates = GATES[cell] * hidden;
  const y = new Float64Array(steps * directions * batch * hidden);
  const yh = new Float64Array(directions * batch * hidden);
  const yc = new Float64Array(directions * batch * hidden);
  for (let d = 0; d < directions; d++) {
    const state = (v: ConstTensor | null) =>
      Float64Array.from({ length: batch * hidden }, (_, k) => v?.values[d * batch * hidden + k] ?? 0);
    let hPrev = state(h0!);
    let cPrev = state(c0 ?? null);
    const wAt = (g: number, k: number) => w!.values[(d * gates + g) * inputs_ + k]!;
    const rAt = (g: number, k: number) => r!.values[(d * gates + g) * hidden + k]!;
    const bAt = (g: number) => bias?.values[d * 2 * gates + g] ?? 0;
    for (let s = 0; s < steps; s++) {
      const step = geometry.reversed(d) ? steps - 1 - s : s;
      const hNext = new Float64Array(batch * hidden);
      const cNext = new Float64Array(batch * hidden);
      for (let n = 0; n < batch; n++) {
        const xw = (g: number) => {
          let sum = bAt(g);
          for (let k = 0; k < inputs_; k++) sum += wAt(g, k) * x!.values[(step * batch + n) * inputs_ + k]!;
          return sum;
        };
        const hr = (g: number, hv: (k: number) => number) => {
          let sum = 0;
          for (let k = 0; k < hidden; k++) sum += rAt(g, k) * hv(k);
          return sum;
        };
        const prev = (k: number) => hPrev[n * hidden + k]!;
        for (let u = 0; u < hidden; u++) {
          const at = n * hidden + u;
          if (cell === 'LSTM') {
            const gate = (q: number) => xw(q * hidden + u) + hr(q * hidden + u, prev) + bAt(gates + q * hidden + u);
            const [i, o, f, c] = [sigmoid(gate(0)), sigmoid(gate(1)), sigmoid(gate(2)), Math.tanh(gate(3))];
            cNext[at] = f * cPrev[at]! + i * c;
            hNext[at] = o * Math.tanh(cNext[at]!);
          } else {
            const gate = (q: number) => xw(q * hidden + u) + hr(q * hidden + u, prev) + bAt(gates + q * hidden + u);
            const z = sigmoid(gate(0));
            const hRow = 2 * hidden + u;
            let candidate: number;
            if (geometry.linearBeforeReset) {
              const reset = sigmoid(gate(1));
              candidate = Math.tanh(xw(hRow) + reset * (hr(hRow, prev) + bAt(gates + hRow)));
            } else {
              const reset = (k: number) => sigmoid(xw(hidden + k) + hr(hidden + k, prev) + bAt(gates + hidden + k)) * prev(k);
              candidate = Math.tanh(xw(hRow) + hr(hRow, reset) + bAt(gates + hRow));
            }
            hNext[at] = (1 - z) * candidate + z * prev(u);
          }
        }
      }
      y.set(hNext, (step * directions + d) * batch * hidden);
      hPrev = hNext;
      cPrev = cNext;
    }
    yh.set(hPrev, d * batch * hidden);
    yc.set(cPrev, d * batch * hidden);
  }
  const dataType = x!.dataType;
  const state = [directions, batch, hidden];
  return [
    constTensor(dataType, [steps, directions, batch, hidden], y),
    constTensor(dataType, state, yh),
    ...(cell === 'LSTM' ? [constTensor(dataType, state, yc)] : []),
  ];
}

/** Rows [from, to) of direction d of a known weight, as a literal [to − from, columns], transposed when asked. */
function weightBlock(g: GradientContext, input: number, d: number, from: number, to: number, transpose: boolean): string {
  const weight = g.constant(input);
  if (weight === undefined) g.fail(`${input === 1 ? 'W' : 'R'} (input ${input}) must be known when the model is built`);
  const [, rows, columns] = weight!.dims as [number, number, number];
  const values = new Float64Array((to - from) * columns);
  for (let row = from; row < to; row++) {
    for (let k = 0; k < columns; k++) {
      const v = weight!.values[(d * rows + row) * columns + k]!;
      values[transpose ? k * (to - from) + row - from : (row - from) * columns + k] = v;
    }
  }
  return g.literal(values, transpose ? [columns, to - from] : [to - from, columns], g.input(0).dataType);
}

/** Direction d's biases (Wb + Rb, or both apart) as literals over the gates; undefined without B. */
function biasBlock(g: GradientContext, d: number, from: number, to: number, part: 'both' | 'input' | 'recurrence'): string | undefined {
  if (!g.hasInput(3)) return undefined;
  const bias = g.constant(3);
  if (bias === undefined) g.fail('B (input 3) must be known when the model is built');
  const gates = bias!.dims[1]! / 2;
  const values = Array.from({ length: to - from }, (_, k) => {
    const wb = bias!.values[d * 2 * gates + from + k]!;
    const rb = bias!.values[d * 2 * gates + gates + from + k]!;
    return part === 'both' ? wb + rb : part === 'input' ? wb : rb;
  });
  return g.literal(values, [to - from], g.input(0).dataType);
}

const add = (g: GradientContext, terms: ReadonlyArray<string | undefined>): string | undefined =>
  terms
    .filter((v): v is string => v !== undefined)
    .reduce<string | undefined>((sum, v) => (sum === undefined ? v : g.op('Add', [sum, v])), undefined);

/** The steps of a [T, B, H] tensor, each [1, B, H]. */
const stepsOf = (g: GradientContext, value: string, t: number): string[] =>
  t === 1 ? [value] : emitSplit(g, value, 0, new Array<number>(t).fill(1));

/** Direction d of a [T, D, B, H] or [D, B, H] tensor, as [T, B, H] or [1, B, H]. */
function direction(g: GradientContext, value: string, d: number, shape: number[], axis: number): string {
  const sliced = shape[axis] === 1 ? value : emitSlice(g, value, [d], [d + 1], [axis]);
  return axis === 0
    ? sliced
    : g.reshape(
        sliced,
        shape.filter((_, a) => a !== axis),
      );
}

/** The cotangents of X (input 0), initial_h (5) and initial_c (6), per direction and summed. */
function recurrentGradient(g: GradientContext): Array<string | undefined> {
  const geometry = recurrentGeometry(g);
  const { cell, t, b, h, directions } = geometry;
  for (const [k, name] of [
    [1, 'W'],
    [2, 'R'],
    [3, 'B'],
  ] as const) {
    if (g.needsGradient(k)) g.fail(`the gradient with respect to ${name} (input ${k}) is not supported`);
  }
  const type = g.input(0).dataType;
  const stateShape = [directions, b, h];
  const zeroState = g.literal(new Float64Array(b * h), [1, b, h], type);
  const one = scalar(g, 1, type);
  const y = g.forwardOutput(0);
  const dy = g.dy(0);
  const dxs: string[] = [];
  const dh0s: string[] = [];
  const dc0s: string[] = [];
  for (let d = 0; d < directions; d++) {
    const back = geometry.reversed(d);
    const ys = direction(g, y, d, [t, directions, b, h], 1);
    const h0 = g.hasInput(5) ? direction(g, g.inputName(5), d, stateShape, 0) : zeroState;
    // The previous hidden state of every step, in time order.
    const hp =
      t === 1
        ? h0
        : g.op('Concat', back ? [emitSlice(g, ys, [1], [t], [0]), h0] : [h0, emitSlice(g, ys, [0], [t - 1], [0])], { axis: { int: 0 } });
    const order = Array.from({ length: t }, (_, s) => (back ? t - 1 - s : s));
    const dys = dy === undefined ? new Array<string>(t).fill(zeroState) : stepsOf(g, direction(g, dy, d, [t, directions, b, h], 1), t);
    const lastH = g.dy(1) === undefined ? undefined : direction(g, g.dy(1)!, d, stateShape, 0);
    const sigmoidSlope = (s: string) => g.op('Mul', [s, g.op('Sub', [one, s])]);
    const tanhSlope = (s: string) => g.op('Sub', [one, g.op('Mul', [s, s])]);
    const dA: string[] = new Array<string>(t);
    let dhNext: string | undefined;
    if (cell === 'LSTM') {
      const pre = add(g, [
        g.op('MatMul', [g.inputName(0), weightBlock(g, 1, d, 0, 4 * h, true)]),
        g.op('MatMul', [hp, weightBlock(g, 2, d, 0, 4 * h, true)]),
        biasBlock(g, d, 0, 4 * h, 'both'),
      ])!;
      const [ai, ao, af, ac] = emitSplit(g, pre, 2, [h, h, h, h]) as [string, string, string, string];
      const [i, o, f, c] = [g.op('Sigmoid', [ai]), g.op('Sigmoid', [ao]), g.op('Sigmoid', [af]), g.op('Tanh', [ac])];
      const [iSteps, fSteps, cSteps] = [stepsOf(g, i, t), stepsOf(g, f, t), stepsOf(g, c, t)];
      const cellState: string[] = new Array<string>(t);
      const cellPrevious: string[] = new Array<string>(t);
      let cPrev = g.hasInput(6) ? direction(g, g.inputName(6), d, stateShape, 0) : zeroState;
      for (const s of order) {
        cellPrevious[s] = cPrev;
        cPrev = cellState[s] = g.op('Add', [g.op('Mul', [fSteps[s]!, cPrev]), g.op('Mul', [iSteps[s]!, cSteps[s]!])]);
      }
      const stack = (parts: string[]) => (t === 1 ? parts[0]! : g.op('Concat', parts, { axis: { int: 0 } }));
      const tc = g.op('Tanh', [stack(cellState)]);
      // dc += dh·o·(1 − tanh²c); dao = dh·tanh c·o(1 − o); dai = dc·c̃·i(1 − i); daf = dc·c_prev·f(1 − f); dac = dc·i·(1 − c̃²).
      const kc = stepsOf(g, g.op('Mul', [o, tanhSlope(tc)]), t);
      const ko = stepsOf(g, g.op('Mul', [tc, sigmoidSlope(o)]), t);
      const ki = stepsOf(g, g.op('Mul', [c, sigmoidSlope(i)]), t);
      const kf = stepsOf(g, g.op('Mul', [stack(cellPrevious), sigmoidSlope(f)]), t);
      const kg = stepsOf(g, g.op('Mul', [i, tanhSlope(c)]), t);
      const recurrence = weightBlock(g, 2, d, 0, 4 * h, false);
      let dcNext = g.dy(2) === undefined ? undefined : direction(g, g.dy(2)!, d, stateShape, 0);
      order.reverse().forEach((s, k) => {
        const dh = add(g, [dys[s], k === 0 ? lastH : dhNext])!;
        const dc = add(g, [dcNext, g.op('Mul', [dh, kc[s]!])])!;
        const parts = [g.op('Mul', [dc, ki[s]!]), g.op('Mul', [dh, ko[s]!]), g.op('Mul', [dc, kf[s]!]), g.op('Mul', [dc, kg[s]!])];
        dA[s] = g.op('Concat', parts, { axis: { int: 2 } });
        dhNext = g.op('MatMul', [dA[s]!, recurrence]);
        dcNext = g.op('Mul', [dc, fSteps[s]!]);
      });
      dc0s.push(dcNext!);
    } else {
      const xPart = add(g, [g.op('MatMul', [g.inputName(0), weightBlock(g, 1, d, 0, 3 * h, true)]), biasBlock(g, d, 0, 3 * h, 'input')])!;
      const hPart = g.op('MatMul', [hp, weightBlock(g, 2, d, 0, 2 * h, true)]);
      const [xz, xr, xh] = emitSplit(g, xPart, 2, [h, h, h]) as [string, string, string];
      const [hz, hr] = emitSplit(g, add(g, [hPart, biasBlock(g, d, 0, 2 * h, 'recurrence')])!, 2, [h, h]) as [string, string];
      const z = g.op('Sigmoid', [g.op('Add', [xz, hz])]);
      const r = g.op('Sigmoid', [g.op('Add', [xr, hr])]);
      const rh = weightBlock(g, 2, d, 2 * h, 3 * h, true);
      const rbh = biasBlock(g, d, 2 * h, 3 * h, 'recurrence');
      const q = add(g, [g.op('MatMul', [geometry.linearBeforeReset ? hp : g.op('Mul', [r, hp]), rh]), rbh])!;
      const candidate = g.op('Tanh', [g.op('Add', [xh, geometry.linearBeforeReset ? g.op('Mul', [r, q]) : q])]);
      // h = (1 − z)·h̃ + z·h_prev: daz = dh·(h_prev − h̃)·z(1 − z); dah = dh·(1 − z)(1 − h̃²).
      const kz = stepsOf(g, g.op('Mul', [g.op('Sub', [hp, candidate]), sigmoidSlope(z)]), t);
      const kh = stepsOf(g, g.op('Mul', [g.op('Sub', [one, z]), tanhSlope(candidate)]), t);
      const kr = stepsOf(g, g.op('Mul', [geometry.linearBeforeReset ? q : hp, sigmoidSlope(r)]), t);
      const [zSteps, rSteps] = [stepsOf(g, z, t), stepsOf(g, r, t)];
      const recurrenceZr = weightBlock(g, 2, d, 0, 2 * h, false);
      const recurrenceH = weightBlock(g, 2, d, 2 * h, 3 * h, false);
      order.reverse().forEach((s, k) => {
        const dh = add(g, [dys[s], k === 0 ? lastH : dhNext])!;
        const daz = g.op('Mul', [dh, kz[s]!]);
        const dah = g.op('Mul', [dh, kh[s]!]);
        let dar: string;
        let throughCandidate: string;
        if (geometry.linearBeforeReset) {
          dar = g.op('Mul', [dah, kr[s]!]);
          throughCandidate = g.op('MatMul', [g.op('Mul', [dah, rSteps[s]!]), recurrenceH]);
        } else {
          const u = g.op('MatMul', [dah, recurrenceH]);
          dar = g.op('Mul', [u, kr[s]!]);
          throughCandidate = g.op('Mul', [u, rSteps[s]!]);
        }
        dA[s] = g.op('Concat', [daz, dar, dah], { axis: { int: 2 } });
        const throughGates = g.op('MatMul', [g.op('Concat', [daz, dar], { axis: { int: 2 } }), recurrenceZr]);
        dhNext = add(g, [g.op('Mul', [dh, zSteps[s]!]), throughGates, throughCandidate]);
      });
    }
    dh0s.push(dhNext!);
    const stacked = t === 1 ? dA[0]! : g.op('Concat', dA, { axis: { int: 0 } });
    dxs.push(g.op('MatMul', [stacked, weightBlock(g, 1, d, 0, GATES[cell] * h, false)]));
  }
  const grads: Array<string | undefined> = new Array(g.inputCount).fill(undefined);
  const joined = (parts: string[]) => (parts.length === 1 ? parts[0]! : g.op('Concat', parts, { axis: { int: 0 } }));
  if (g.needsGradient(0)) grads[0] = add(g, dxs);
  if (g.needsGradient(5)) grads[5] = joined(dh0s);
  if (cell === 'LSTM' && g.needsGradient(6)) grads[6] = joined(dc0s);
  return grads;
}

function recurrentOp(opType: Cell): OpDefinition {
  return { opType, inferTypes: outputTypes, evaluate: evaluateRecurrent, gradient: recurrentGradient };
}

export const RECURRENT_OPS: readonly OpDefinition[] = [recurrentOp('LSTM'), recurrentOp('GRU')];
