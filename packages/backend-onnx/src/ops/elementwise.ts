import { DataType, dataTypeName, isFloatType } from '../model/data-type.js';
import type { GradientContext, GradientRule, NodeContext, OpDefinition, TensorType } from './op-definition.js';
import {
  broadcastType,
  evaluateElementwise,
  literalOf,
  maskOf,
  maskOfAll,
  requireOpset,
  scalar,
  signOf,
  storeAs,
  toInput,
  unary,
} from './rule-helpers.js';

/*
 * Element-wise arithmetic, comparisons, logic, Where and Cast. Cotangents of
 * broadcast operands are summed back to the operand's shape (g.unbroadcast).
 * Masks are 0/1 tensors multiplied into the cotangent rather than Where, which
 * some execution providers (WebGL) lack, and so that an infinite operand the
 * mask rules out cannot turn the cotangent into NaN.
 */

const INTEGER_TYPES: ReadonlySet<DataType> = new Set([
  DataType.INT64,
  DataType.INT32,
  DataType.INT16,
  DataType.INT8,
  DataType.UINT64,
  DataType.UINT32,
  DataType.UINT16,
  DataType.UINT8,
]);

function isIntegerType(dataType: DataType): boolean {
  return INTEGER_TYPES.has(dataType);
}

/** x == 0, written with the ops of the model's opset (Equal takes floats from opset 11). */
function isZero(g: GradientContext, x: string, dataType: DataType): string {
  const zero = scalar(g, 0, dataType);
  if (g.opset >= 11) return g.op('Equal', [x, zero]);
  return g.op('Not', [g.op('Or', [g.op('Less', [x, zero]), g.op('Greater', [x, zero])])]);
}

// ---------------------------------------------------------------------------
// Arithmetic

/** Output type of a binary or variadic arithmetic op: the broadcast shape, the first input's type. */
const arithmeticType = (ctx: NodeContext): TensorType[] => [broadcastType(ctx, ctx.input(0).dataType)];

/** Integer Div truncates toward zero (C semantics, as ONNX Runtime computes it). */
function divide(ctx: NodeContext) {
  const dataType = ctx.input(0).dataType;
  if (!isIntegerType(dataType)) return (a: number, b: number) => a / b;
  return (a: number, b: number) => {
    if (b === 0) ctx.fail(`integer division by zero in ${dataTypeName(dataType)} constants`);
    return Math.trunc(a / b);
  };
}

/**
 * Pow(x, b) = x^b:
 * x̄ = ȳ·b·x^(b−1); b̄ = ȳ·y·ln(x), taken as 0 where x = 0 (where y·ln x is 0·(−∞) for b > 0), as PyTorch does.
 */
const powGradient: GradientRule = (g) => {
  const dy = g.dy(0)!;
  const type = g.input(0).dataType;
  const x = g.inputName(0);
  let base: string | undefined;
  if (g.needsGradient(0)) {
    const b = g.constant(1);
    let full: string | undefined;
    if (b?.values.every((v) => v === b.values[0])) {
      const k = b.values[0] ?? 0;
      if (k === 1) full = dy;
      else if (k === 2) full = g.op('Mul', [dy, g.op('Mul', [x, scalar(g, 2, type)])]);
      else if (k !== 0) full = g.op('Mul', [dy, g.op('Mul', [g.op('Pow', [x, scalar(g, k - 1, type)]), scalar(g, k, type)])]);
    } else if (b !== undefined) {
      const power = g.op('Pow', [
        x,
        literalOf(
          g,
          Array.from(b.values, (v) => v - 1),
          b.dims,
          type,
        ),
      ]);
      full = g.op('Mul', [dy, g.op('Mul', [power, literalOf(g, b.values, b.dims, type)])]);
    } else {
      const exponent = g.input(1).dataType === type ? g.inputName(1) : g.op('Cast', [g.inputName(1)], { to: { int: type } });
      const power = g.op('Pow', [x, g.op('Sub', [exponent, scalar(g, 1, type)])]);
      full = g.op('Mul', [dy, g.op('Mul', [power, exponent])]);
    }
    // A constant exponent 0 makes y constant: no cotangent.
    base = full === undefined ? undefined : toInput(g, 0, full);
  }
  let exponent: string | undefined;
  if (g.needsGradient(1)) {
    const safe = g.op('Add', [x, maskOf(g, isZero(g, x, type), type)]);
    const full = g.op('Mul', [dy, g.op('Mul', [g.forwardOutput(0), g.op('Log', [safe])])]);
    const reduced = toInput(g, 1, full);
    const exponentType = g.input(1).dataType;
    exponent = exponentType === type ? reduced : g.op('Cast', [reduced], { to: { int: exponentType } });
  }
  return [base, exponent];
};

/**
 * Max/Min over n broadcast operands, the cotangent going to the FIRST operand
 * that attains the extremum (ONNX and docs/methods.md: max(a, b) with a tie goes
 * to a): x̄_i = ȳ·[x_i beats every x_j, j < i, strictly]·[no x_j, j > i, beats x_i].
 */
function extremumGradient(beats: 'Greater' | 'Less'): GradientRule {
  return (g) => {
    const n = g.inputCount;
    const dy = g.dy(0)!;
    const type = g.output(0).dataType;
    if (n === 1) return [g.needsGradient(0) ? dy : undefined];
    const grads: Array<string | undefined> = [];
    let first: string | undefined;
    for (let i = 0; i < n; i++) {
      if (!g.needsGradient(i)) {
        grads.push(undefined);
        continue;
      }
      let full: string;
      if (n === 2 && i === 1 && first !== undefined) {
        // The two masks partition the elements.
        full = g.op('Sub', [dy, first]);
      } else {
        const xi = g.inputName(i);
        const conditions: string[] = [];
        for (let j = 0; j < n; j++) {
          if (j < i) conditions.push(g.op(beats, [xi, g.inputName(j)]));
          else if (j > i) conditions.push(g.op('Not', [g.op(beats, [g.inputName(j), xi])]));
        }
        full = g.op('Mul', [dy, maskOfAll(g, conditions, type)]);
      }
      if (i === 0) first = full;
      grads.push(toInput(g, i, full));
    }
    return grads;
  };
}

/** Round half to even, as ONNX Round. */
function roundHalfEven(v: number): number {
  return Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v);
}

/** Ops whose derivative is 0 almost everywhere: no cotangent. */
const zeroGradient: GradientRule = () => [undefined];

const ARITHMETIC_OPS: OpDefinition[] = [
  {
    /** x̄ = ȳ, ȳ summed over the axes x was broadcast along; likewise for the other operand. */
    opType: 'Add',
    inferTypes: arithmeticType,
    evaluate: (ctx) => evaluateElementwise(ctx, ctx.input(0).dataType, (a, b) => a + b),
    gradient: (g) => [0, 1].map((i) => (g.needsGradient(i) ? toInput(g, i, g.dy(0)!) : undefined)),
  },
  {
    /** ā = ȳ; b̄ = −ȳ. */
    opType: 'Sub',
    inferTypes: arithmeticType,
    evaluate: (ctx) => evaluateElementwise(ctx, ctx.input(0).dataType, (a, b) => a - b),
    gradient: (g) => [
      g.needsGradient(0) ? toInput(g, 0, g.dy(0)!) : undefined,
      // Negated after the reduction, on the smaller tensor.
      g.needsGradient(1) ? g.op('Neg', [toInput(g, 1, g.dy(0)!)]) : undefined,
    ],
  },
  {
    /** ā = ȳ·b; b̄ = ȳ·a. */
    opType: 'Mul',
    inferTypes: arithmeticType,
    evaluate: (ctx) => evaluateElementwise(ctx, ctx.input(0).dataType, (a, b) => a * b),
    gradient: (g) => [
      g.needsGradient(0) ? toInput(g, 0, g.op('Mul', [g.dy(0)!, g.inputName(1)])) : undefined,
      g.needsGradient(1) ? toInput(g, 1, g.op('Mul', [g.dy(0)!, g.inputName(0)])) : undefined,
    ],
  },
  {
    /** ā = ȳ / b; b̄ = −ȳ·a/b² = −ȳ·y/b. */
    opType: 'Div',
    inferTypes: arithmeticType,
    evaluate: (ctx) => evaluateElementwise(ctx, ctx.input(0).dataType, divide(ctx)),
    gradient: (g) => [
      g.needsGradient(0) ? toInput(g, 0, g.op('Div', [g.dy(0)!, g.inputName(1)])) : undefined,
      g.needsGradient(1)
        ? g.op('Neg', [toInput(g, 1, g.op('Div', [g.op('Mul', [g.dy(0)!, g.forwardOutput(0)]), g.inputName(1)]))])
        : undefined,
    ],
  },
  {
    opType: 'Pow',
    inferTypes: (ctx) => [broadcastType(ctx, ctx.input(0).dataType)],
    evaluate: (ctx) =>
      evaluateElementwise(ctx, ctx.input(0).dataType, (a, b) => (isIntegerType(ctx.input(0).dataType) ? Math.trunc(a ** b) : a ** b)),
    gradient: powGradient,
  },
  {
    /** x̄_i = ȳ for every operand, summed over its broadcast axes. */
    opType: 'Sum',
    inferTypes: arithmeticType,
    evaluate: (ctx) => evaluateElementwise(ctx, ctx.input(0).dataType, (...v) => v.reduce((s, x) => s + x, 0)),
    gradient: (g) => Array.from({ length: g.inputCount }, (_, i) => (g.needsGradient(i) ? toInput(g, i, g.dy(0)!) : undefined)),
  },
  {
    opType: 'Max',
    inferTypes: arithmeticType,
    evaluate: (ctx) => evaluateElementwise(ctx, ctx.input(0).dataType, Math.max),
    gradient: extremumGradient('Greater'),
  },
  {
    opType: 'Min',
    inferTypes: arithmeticType,
    evaluate: (ctx) => evaluateElementwise(ctx, ctx.input(0).dataType, Math.min),
    gradient: extremumGradient('Less'),
  },
  /** ȳ/(2y). */
  unary('Sqrt', Math.sqrt, (g) => [g.op('Div', [g.op('Mul', [g.dy(0)!, scalar(g, 0.5, g.input(0).dataType)]), g.forwardOutput(0)])]),
  /** ȳ·y. */
  unary('Exp', Math.exp, (g) => [g.op('Mul', [g.dy(0)!, g.forwardOutput(0)])]),
  /** ȳ/x. */
  unary('Log', Math.log, (g) => [g.op('Div', [g.dy(0)!, g.inputName(0)])]),
  /** −ȳ. */
  unary(
    'Neg',
    (x) => -x,
    (g) => [g.op('Neg', [g.dy(0)!])],
  ),
  /** ȳ·sign(x), 0 at x = 0. */
  unary('Abs', Math.abs, (g) => [g.op('Mul', [g.dy(0)!, signOf(g, g.inputName(0), g.input(0).dataType)])]),
  /** −ȳ·y². */
  unary(
    'Reciprocal',
    (x) => 1 / x,
    (g) => {
      const y = g.forwardOutput(0);
      return [g.op('Neg', [g.op('Mul', [g.dy(0)!, g.op('Mul', [y, y])])])];
    },
  ),
  unary('Floor', Math.floor, zeroGradient),
  unary('Ceil', Math.ceil, zeroGradient),
  unary('Round', roundHalfEven, zeroGradient, 11),
];

// ---------------------------------------------------------------------------
// Cast, comparisons, logic, Where

/** ONNX Cast: to an integer type truncates toward zero, then wraps; to bool is x ≠ 0. */
function castValue(v: number, to: DataType): number {
  if (to === DataType.BOOL) return v !== 0 ? 1 : 0;
  if (isFloatType(to)) return v;
  return storeAs(to, Math.trunc(v));
}

function castTarget(ctx: NodeContext): DataType {
  const to = ctx.attributes.int('to');
  if (to === undefined) ctx.fail('attribute to is required');
  if (!isFloatType(to!) && !isIntegerType(to!) && to !== DataType.BOOL) {
    ctx.fail(`attribute to = ${to} (${dataTypeName(to!)}) is not supported; allowed: float, integer and bool types`);
  }
  return to!;
}

function comparison(opType: string, test: (a: number, b: number) => boolean, since = 7): OpDefinition {
  return {
    opType,
    inferTypes: (ctx) => {
      requireOpset(ctx, since);
      return [broadcastType(ctx, DataType.BOOL)];
    },
    evaluate: (ctx) => evaluateElementwise(ctx, DataType.BOOL, (a, b) => (test(a, b) ? 1 : 0)),
    gradient: 'none',
  };
}

/**
 * Where(c, X, Y): X̄ = ȳ·[c], Ȳ = ȳ·[¬c], each summed over its broadcast
 * axes; a constant condition becomes a literal mask.
 */
const whereGradient: GradientRule = (g) => {
  const dy = g.dy(0)!;
  const type = g.output(0).dataType;
  const condition = g.constant(0);
  const mask = (negate: boolean): string => {
    if (condition !== undefined) {
      return literalOf(
        g,
        Array.from(condition.values, (c) => ((c !== 0) !== negate ? 1 : 0)),
        condition.dims,
        type,
      );
    }
    const c = g.inputName(0);
    return maskOf(g, negate ? g.op('Not', [c]) : c, type);
  };
  const x = g.needsGradient(1) ? g.op('Mul', [dy, mask(false)]) : undefined;
  const y = g.needsGradient(2) ? (x !== undefined ? g.op('Sub', [dy, x]) : g.op('Mul', [dy, mask(true)])) : undefined;
  return [undefined, x === undefined ? undefined : toInput(g, 1, x), y === undefined ? undefined : toInput(g, 2, y)];
};

const LOGIC_OPS: OpDefinition[] = [
  {
    /** Between float types, x̄ = Cast(ȳ, type of x); to or from integers, none. */
    opType: 'Cast',
    inferTypes: (ctx) => [{ dataType: castTarget(ctx), shape: ctx.input(0).shape }],
    evaluate: (ctx) => {
      const to = castTarget(ctx);
      return evaluateElementwise(ctx, to, (v) => castValue(v, to));
    },
    gradient: (g) => {
      const from = g.input(0).dataType;
      const to = g.output(0).dataType;
      if (!isFloatType(from) || !isFloatType(to)) return [undefined];
      return [from === to ? g.dy(0)! : g.op('Cast', [g.dy(0)!], { to: { int: from } })];
    },
  },
  comparison('Equal', (a, b) => a === b),
  comparison('Less', (a, b) => a < b),
  comparison('Greater', (a, b) => a > b),
  comparison('LessOrEqual', (a, b) => a <= b, 12),
  comparison('GreaterOrEqual', (a, b) => a >= b, 12),
  comparison('And', (a, b) => a !== 0 && b !== 0),
  comparison('Or', (a, b) => a !== 0 || b !== 0),
  {
    opType: 'Not',
    inferTypes: (ctx) => [{ dataType: DataType.BOOL, shape: ctx.input(0).shape }],
    evaluate: (ctx) => evaluateElementwise(ctx, DataType.BOOL, (a) => (a === 0 ? 1 : 0)),
    gradient: 'none',
  },
  {
    opType: 'Where',
    inferTypes: (ctx) => {
      requireOpset(ctx, 9);
      return [broadcastType(ctx, ctx.input(1).dataType, [0, 1, 2])];
    },
    evaluate: (ctx) => evaluateElementwise(ctx, ctx.input(1).dataType, (c, x, y) => (c !== 0 ? x : y)),
    gradient: whereGradient,
  },
];

export const ELEMENTWISE_OPS: readonly OpDefinition[] = [...ARITHMETIC_OPS, ...LOGIC_OPS];
