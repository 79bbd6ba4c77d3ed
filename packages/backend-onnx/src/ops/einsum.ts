import { sizeOf } from '@saliency/core';
import { constTensor } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import { requireOpset } from './rule-helpers.js';
import type { GradientContext, NodeContext, OpDefinition } from './op-definition.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** An Einsum equation with its ellipses spelled out: each operand's and the output's axes as label numbers. */
interface Equation {
  readonly operands: number[][];
  readonly output: number[];
  /** Length of each label's axis. */
  readonly sizes: number[];
}

/**
 * Parses the equation against the operands' shapes: explicit (`ij,jk->ik`) or
 * implicit (the output is the labels used once, in alphabetical order, after
 * the ellipsis' axes); `...` stands for the same leading axes in every term,
 * aligned from the right. Broadcasting those axes (length 1 against n) is refused.
 */
function parseEquation(ctx: NodeContext): Equation {
  requireOpset(ctx, 12);
  const text = (ctx.attributes.string('equation') ?? ctx.fail('equation must be given')).replace(/\s/g, '');
  const [left, right] = text.split('->') as [string, string | undefined];
  const terms = left.split(',');
  if (terms.length !== ctx.inputCount) ctx.fail(`equation "${text}" has ${terms.length} operands for ${ctx.inputCount} inputs`);
  const labels = new Map<string, number>();
  const sizes: number[] = [];
  const ellipsis: number[] = [];
  const labelOf = (name: string, size: number): number => {
    let label = labels.get(name);
    if (label === undefined) {
      label = sizes.push(size) - 1;
      labels.set(name, label);
    } else if (sizes[label] !== size) {
      ctx.fail(`label "${name.startsWith('.') ? '...' : name}" of equation "${text}" has lengths ${sizes[label]} and ${size}`);
    }
    return label;
  };
  const spell = (term: string, shape: readonly number[] | undefined): number[] => {
    const [head, tail] = term.includes('...') ? (term.split('...') as [string, string]) : [term, undefined];
    for (const c of head + (tail ?? '')) if (!LETTERS.includes(c)) ctx.fail(`equation "${text}" has the character "${c}"`);
    const dots = tail === undefined ? 0 : shape === undefined ? ellipsis.length : shape.length - head.length - tail.length;
    if (shape !== undefined && dots < 0) ctx.fail(`term "${term}" of equation "${text}" does not match an input of rank ${shape.length}`);
    if (shape !== undefined && tail === undefined && head.length !== shape.length)
      ctx.fail(`term "${term}" of equation "${text}" does not match an input of rank ${shape.length}`);
    const at = (i: number) => (shape === undefined ? (sizes[labels.get(term[i]!)!] ?? 0) : shape[i]!);
    const result = [...head].map((c, i) =>
      shape === undefined ? (labels.get(c) ?? ctx.fail(`output label "${c}" is in no operand`)) : labelOf(c, at(i)),
    );
    for (let k = 0; k < dots; k++) {
      const fromRight = dots - k;
      while (ellipsis.length < fromRight) ellipsis.unshift(-1);
      const slot = ellipsis.length - fromRight;
      if (shape !== undefined) {
        const size = shape[head.length + k]!;
        if (ellipsis[slot] === -1) ellipsis[slot] = labelOf(`.${fromRight}`, size);
        else labelOf(`.${fromRight}`, size);
      }
      result.push(ellipsis[slot]!);
    }
    [...(tail ?? '')].forEach((c, i) => {
      result.push(
        shape === undefined
          ? (labels.get(c) ?? ctx.fail(`output label "${c}" is in no operand`))
          : labelOf(c, shape[head.length + dots + i]!),
      );
    });
    return result;
  };
  const operands = terms.map((term, i) => spell(term, ctx.input(i).shape));
  let output: number[];
  if (right !== undefined) output = spell(right, undefined);
  else {
    const counts = new Map<string, number>();
    for (const c of left.replace(/\.\.\.|,/g, '')) counts.set(c, (counts.get(c) ?? 0) + 1);
    const once = [...counts.keys()].filter((c) => counts.get(c) === 1).sort();
    output = [...ellipsis, ...once.map((c) => labels.get(c)!)];
  }
  if (new Set(output).size !== output.length) ctx.fail(`the output of equation "${text}" repeats a label`);
  return { operands, output, sizes };
}

/** The equation over canonical letters, as an Einsum node takes it. */
function spelled(operands: ReadonlyArray<readonly number[]>, output: readonly number[]): string {
  const word = (labels: readonly number[]) => labels.map((l) => LETTERS[l]).join('');
  return `${operands.map(word).join(',')}->${word(output)}`;
}

/**
 * y = Σ over the labels not in the output of Π_k x_k. Being linear in each
 * operand, x̄_k is the Einsum of ȳ with the other operands onto x_k's labels;
 * labels only x_k has (summed away in y) are then broadcast back. An operand
 * that repeats a label (a diagonal) has no such form and is refused.
 */
export const EINSUM_OP: OpDefinition = {
  opType: 'Einsum',
  inferTypes: (ctx) => {
    const { output, sizes } = parseEquation(ctx);
    return [{ dataType: ctx.input(0).dataType, shape: output.map((l) => sizes[l]!) }];
  },
  evaluate: (ctx) => {
    const inputs = Array.from({ length: ctx.inputCount }, (_, i) => ctx.constant(i));
    if (inputs.some((x) => x === undefined)) return undefined;
    const { operands, output, sizes } = parseEquation(ctx);
    const shape = output.map((l) => sizes[l]!);
    const values = new Float64Array(sizeOf(shape));
    const index = sizes.map(() => 0);
    const total = sizeOf(sizes);
    const flat = (labels: readonly number[]) => labels.reduce((at, l) => at * sizes[l]! + index[l]!, 0);
    for (let step = 0; step < total; step++) {
      let product = 1;
      operands.forEach((labels, k) => (product *= inputs[k]!.values[flat(labels)]!));
      const at = flat(output);
      values[at] = values[at]! + product;
      for (let l = sizes.length - 1; l >= 0; l--) {
        if (++index[l]! < sizes[l]!) break;
        index[l] = 0;
      }
    }
    return [constTensor(inputs[0]!.dataType, shape, values)];
  },
  gradient: (g) => {
    const { operands, output, sizes } = parseEquation(g);
    return operands.map((labels, k) => (g.needsGradient(k) ? operandGradient(g, k, labels, operands, output, sizes) : undefined));
  },
};

function operandGradient(
  g: GradientContext,
  k: number,
  labels: readonly number[],
  operands: ReadonlyArray<readonly number[]>,
  output: readonly number[],
  sizes: readonly number[],
): string {
  if (new Set(labels).size !== labels.length) g.fail(`operand ${k} repeats a label (a diagonal), whose gradient is not supported`);
  const others = operands.flatMap((o, i) => (i === k ? [] : [o]));
  const present = new Set([...output, ...others.flat()]);
  const kept = labels.filter((l) => present.has(l));
  const names = [g.dy(0)!, ...operands.flatMap((_, i) => (i === k ? [] : [g.inputName(i)]))];
  let gradient = g.op('Einsum', names, { equation: { string: spelled([output, ...others], kept) } });
  if (kept.length === labels.length) return gradient;
  const shape = g.input(k).shape;
  gradient = g.reshape(
    gradient,
    labels.map((l) => (present.has(l) ? sizes[l]! : 1)),
  );
  if (g.supports('expand')) return g.op('Expand', [gradient, g.literal(shape, [shape.length], DataType.INT64)]);
  return g.op('Mul', [gradient, g.literal(new Float64Array(sizeOf(shape)).fill(1), shape, g.input(k).dataType)]);
}
