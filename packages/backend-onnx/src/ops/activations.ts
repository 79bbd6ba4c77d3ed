import { constTensor } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import type { GradientContext, GradientRule, NodeContext, OpDefinition } from './op-definition.js';
import { evaluateElementwise, maskOf, maskOfAll, requireOpset, scalar, toInput, unary } from './rule-helpers.js';
import { broadcastShapes } from './tensor-math.js';

/*
 * Activations. At a kink the derivative takes the side PyTorch takes
 * (docs/methods.md, "Ties and kinks"): ReLU'(0) = 0, LeakyReLU'(0) = PReLU'(0) = the
 * negative slope, ELU'(0) = α; clamps (Clip, HardSigmoid) pass the cotangent
 * only strictly inside their range.
 */

/** erf in float64 to about 1e-16: erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)), a series of positive terms. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  if (Math.abs(x) >= 6) return Math.sign(x);
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

/** The input's float type, for literals. */
const inputDataType = (g: GradientContext): DataType => g.input(0).dataType;

/** ȳ·factor, or ȳ·[x > 0] computed as a cast mask. */
const times = (g: GradientContext, factor: string): string => g.op('Mul', [g.dy(0)!, factor]);
const positive = (g: GradientContext, x: string): string =>
  maskOf(g, g.op('Greater', [x, scalar(g, 0, inputDataType(g))]), inputDataType(g));

/**
 * The derivative of a function that is x for x > 0 and has derivative
 * `negative` elsewhere (ELU, SELU through the output): m·scale + (1 − m)·negative,
 * written negative + m·(scale − negative).
 */
function piecewise(g: GradientContext, scale: number, negative: string): string {
  const type = inputDataType(g);
  const m = positive(g, g.inputName(0));
  return g.op('Add', [negative, g.op('Mul', [m, g.op('Sub', [scalar(g, scale, type), negative])])]);
}

// ---------------------------------------------------------------------------
// Clip

export interface Bound {
  /** The bound's value, when known at build time. */
  readonly value?: number;
  /** The input that holds it, when it is one (opset 11 and later). */
  readonly input?: number;
}

const FLOAT_MAX = 3.4028234663852886e38;

/** Clip's bounds: attributes before opset 11 (defaulting to ±FLT_MAX), optional inputs 1 and 2 after. */
export function clipBounds(ctx: NodeContext): { lo: Bound | undefined; hi: Bound | undefined } {
  if (ctx.opset < 11) {
    const min = ctx.attributes.float('min');
    const max = ctx.attributes.float('max');
    return { lo: min === undefined ? undefined : { value: min }, hi: max === undefined ? undefined : { value: max } };
  }
  const bound = (i: number): Bound | undefined => {
    if (!ctx.hasInput(i)) return undefined;
    const type = ctx.input(i);
    if (type.shape.reduce((n, d) => n * d, 1) !== 1)
      ctx.fail(`input ${i} (${i === 1 ? 'min' : 'max'}) must be a scalar, got shape [${type.shape.join(', ')}]`);
    const value = ctx.constant(i);
    return value === undefined ? { input: i } : { value: value.values[0]!, input: i };
  };
  return { lo: bound(1), hi: bound(2) };
}

/**
 * Clip(x, lo, hi) = min(max(x, lo), hi):
 * x̄ = ȳ·[lo < x < hi] — exclusive at the bounds, as PyTorch's hardtanh and
 * ReLU6 backward (its clamp backward is inclusive); a clipped element gets 0.
 * A computed bound (opset ≥ 11) gets l̄o = Σ ȳ·[x < lo], h̄i = Σ ȳ·[x > hi].
 */
const clipGradient: GradientRule = (g) => {
  const type = inputDataType(g);
  const x = g.inputName(0);
  const dy = g.dy(0)!;
  const { lo, hi } = clipBounds(g);
  const boundName = (b: Bound): string => (b.input !== undefined ? g.inputName(b.input) : scalar(g, b.value!, type));
  let gx: string | undefined;
  if (g.needsGradient(0)) {
    const conditions: string[] = [];
    if (lo !== undefined) conditions.push(g.op('Greater', [x, boundName(lo)]));
    if (hi !== undefined) conditions.push(g.op('Less', [x, boundName(hi)]));
    gx = conditions.length === 0 ? dy : times(g, maskOfAll(g, conditions, type));
  }
  const boundGradient = (b: Bound | undefined, outside: 'Less' | 'Greater'): string | undefined => {
    if (b?.input === undefined || !g.needsGradient(b.input)) return undefined;
    return toInput(g, b.input, times(g, maskOf(g, g.op(outside, [x, g.inputName(b.input)]), type)));
  };
  return [gx, boundGradient(lo, 'Less'), boundGradient(hi, 'Greater')];
};

// ---------------------------------------------------------------------------
// Gelu

function geluApproximation(ctx: NodeContext): 'none' | 'tanh' {
  const approximate = ctx.attributes.string('approximate', 'none');
  if (approximate !== 'none' && approximate !== 'tanh')
    ctx.fail(`attribute approximate = "${approximate}" is not supported; allowed: "none", "tanh"`);
  return approximate as 'none' | 'tanh';
}

/**
 * Gelu, approximate = 'none': y = x·Φ(x), x̄ = ȳ·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π).
 * approximate = 'tanh': y = x/2·(1 + t), t = tanh(c·(x + 0.044715x³)), c = √(2/π),
 * x̄ = ȳ·(½(1 + t) + ½x(1 − t²)·c·(1 + 3·0.044715x²)).
 */
const geluGradient: GradientRule = (g) => {
  const type = inputDataType(g);
  const x = g.inputName(0);
  const k = (v: number) => scalar(g, v, type);
  const x2 = g.op('Mul', [x, x]);
  let factor: string;
  if (geluApproximation(g) === 'none') {
    const cdf = g.op('Mul', [g.op('Add', [g.op('Erf', [g.op('Mul', [x, k(Math.SQRT1_2)])]), k(1)]), k(0.5)]);
    const pdf = g.op('Mul', [g.op('Exp', [g.op('Mul', [x2, k(-0.5)])]), k(1 / Math.sqrt(2 * Math.PI))]);
    factor = g.op('Add', [cdf, g.op('Mul', [x, pdf])]);
  } else {
    const inner = g.op('Add', [g.op('Mul', [x2, k(GELU_CUBIC)]), k(1)]);
    const t = g.op('Tanh', [g.op('Mul', [g.op('Mul', [x, inner]), k(SQRT_2_OVER_PI)])]);
    const half = g.op('Mul', [g.op('Add', [t, k(1)]), k(0.5)]);
    const slope = g.op('Mul', [g.op('Add', [g.op('Mul', [x2, k(3 * GELU_CUBIC)]), k(1)]), k(SQRT_2_OVER_PI)]);
    const sech2 = g.op('Sub', [k(1), g.op('Mul', [t, t])]);
    factor = g.op('Add', [half, g.op('Mul', [g.op('Mul', [g.op('Mul', [x, k(0.5)]), sech2]), slope])]);
  }
  return [times(g, factor)];
};

function gelu(x: number, approximate: 'none' | 'tanh'): number {
  if (approximate === 'none') return 0.5 * x * (1 + erf(x * Math.SQRT1_2));
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)));
}

// ---------------------------------------------------------------------------
// Dropout

/** Dropout in inference mode; training mode would be random, so is refused. */
function checkInferenceMode(ctx: NodeContext): void {
  if (ctx.opset < 12 || !ctx.hasInput(2)) return;
  const mode = ctx.constant(2);
  if (mode === undefined) ctx.fail('training_mode (input 2) must be known when the model is built');
  if (mode!.values[0] !== 0) {
    ctx.fail('training_mode (input 2) is true: training-mode dropout is random; export the model in inference mode (model.eval())');
  }
}

const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;

const hardSigmoid = (x: number, alpha: number, beta: number): number => Math.max(0, Math.min(1, alpha * x + beta));

export const ACTIVATION_OPS: readonly OpDefinition[] = [
  /**
   * ȳ·[x > 0]: ReLU'(0) = 0. Read as [y > 0] on the output y = ReLU(x), the
   * same mask: then x has ReLU as its only consumer, and ONNX Runtime fuses
   * the Conv (or Conv + Add) before it with it, as in the forward model.
   * Not on WebGL (see the capability `reluMaskFromOutput`).
   */
  unary(
    'Relu',
    (x) => Math.max(x, 0),
    (g) => [times(g, positive(g, g.supports('reluMaskFromOutput') ? g.outputName(0) : g.inputName(0)))],
  ),
  {
    /** ȳ·(x > 0 ? 1 : α), written ȳ·(α + [x > 0]·(1 − α)); α at 0, as PyTorch. */
    opType: 'LeakyRelu',
    inferTypes: (ctx) => [ctx.input(0)],
    evaluate: (ctx) => {
      const alpha = ctx.attributes.float('alpha', 0.01);
      return evaluateElementwise(ctx, ctx.input(0).dataType, (x) => (x >= 0 ? x : alpha * x));
    },
    gradient: (g) => {
      const alpha = g.attributes.float('alpha', 0.01);
      const type = inputDataType(g);
      const m = positive(g, g.inputName(0));
      return [times(g, g.op('Add', [g.op('Mul', [m, scalar(g, 1 - alpha, type)]), scalar(g, alpha, type)]))];
    },
  },
  {
    /**
     * PRelu(x, s) = x for x ≥ 0, s·x below, s unidirectionally broadcast to x:
     * x̄ = ȳ·(m + s·(1 − m)), m = [x > 0]; s̄ = Σ ȳ·min(x, 0) over s's broadcast axes.
     */
    opType: 'PRelu',
    inferTypes: (ctx) => {
      const x = ctx.input(0);
      const slope = ctx.input(1).shape;
      const shape = broadcastShapes(x.shape, slope);
      if (shape === undefined || shape.length !== x.shape.length || shape.some((d, i) => d !== x.shape[i])) {
        ctx.fail(`slope of shape [${slope.join(', ')}] does not broadcast to the input's shape [${x.shape.join(', ')}]`);
      }
      return [x];
    },
    evaluate: (ctx) => evaluateElementwise(ctx, ctx.input(0).dataType, (x, s) => (x < 0 ? s * x : x)),
    gradient: (g) => {
      const type = inputDataType(g);
      const x = g.inputName(0);
      const slope = g.inputName(1);
      let gx: string | undefined;
      if (g.needsGradient(0)) {
        const m = positive(g, x);
        gx = times(g, g.op('Add', [m, g.op('Mul', [slope, g.op('Sub', [scalar(g, 1, type), m])])]));
      }
      // min(x, 0) = x − relu(x), with ops every opset and execution provider has.
      const gs = g.needsGradient(1) ? toInput(g, 1, times(g, g.op('Sub', [x, g.op('Relu', [x])]))) : undefined;
      return [gx, gs];
    },
  },
  {
    opType: 'Clip',
    inferTypes: (ctx) => [ctx.input(0)],
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      const { lo, hi } = clipBounds(ctx);
      const unknown = (b: Bound | undefined) => b !== undefined && b.value === undefined;
      if (x === undefined || unknown(lo) || unknown(hi)) return undefined;
      // Before opset 11 an absent bound is ±FLT_MAX; from 11 it is the type's limit: no clipping.
      const low = lo?.value ?? (ctx.opset < 11 ? -FLOAT_MAX : -Infinity);
      const high = hi?.value ?? (ctx.opset < 11 ? FLOAT_MAX : Infinity);
      return [
        constTensor(
          x.dataType,
          x.dims,
          Array.from(x.values, (v) => Math.min(Math.max(v, low), high)),
        ),
      ];
    },
    gradient: clipGradient,
  },
  /** ȳ·y·(1 − y). */
  unary(
    'Sigmoid',
    (x) => 1 / (1 + Math.exp(-x)),
    (g) => {
      const y = g.forwardOutput(0);
      return [times(g, g.op('Mul', [y, g.op('Sub', [scalar(g, 1, inputDataType(g)), y])]))];
    },
  ),
  {
    /** y = max(0, min(1, αx + β)); x̄ = ȳ·α·[0 < y < 1], strictly inside, as PyTorch's hardsigmoid backward. */
    opType: 'HardSigmoid',
    inferTypes: (ctx) => [ctx.input(0)],
    evaluate: (ctx) => {
      const alpha = ctx.attributes.float('alpha', 0.2);
      const beta = ctx.attributes.float('beta', 0.5);
      return evaluateElementwise(ctx, ctx.input(0).dataType, (x) => hardSigmoid(x, alpha, beta));
    },
    gradient: (g) => {
      const type = inputDataType(g);
      const y = g.forwardOutput(0);
      const inside = maskOfAll(g, [g.op('Greater', [y, scalar(g, 0, type)]), g.op('Less', [y, scalar(g, 1, type)])], type);
      return [times(g, g.op('Mul', [inside, scalar(g, g.attributes.float('alpha', 0.2), type)]))];
    },
  },
  {
    /**
     * y = x·h(x), h = HardSigmoid with α = 1/6, β = ½; by the product rule
     * x̄ = ȳ·(h(x) + x/6·[−3 < x < 3]): 0 at −3 and 1 at 3 (PyTorch's backward
     * takes the inner one-sided slopes there, −½ and 3/2).
     */
    opType: 'HardSwish',
    inferTypes: (ctx) => {
      requireOpset(ctx, 14);
      return [ctx.input(0)];
    },
    evaluate: (ctx) => evaluateElementwise(ctx, ctx.input(0).dataType, (x) => x * hardSigmoid(x, 1 / 6, 0.5)),
    gradient: (g) => {
      const type = inputDataType(g);
      const x = g.inputName(0);
      const h = g.op('HardSigmoid', [x], { alpha: { float: 1 / 6 }, beta: { float: 0.5 } });
      const inside = maskOfAll(g, [g.op('Greater', [x, scalar(g, -3, type)]), g.op('Less', [x, scalar(g, 3, type)])], type);
      const slope = g.op('Mul', [g.op('Mul', [x, scalar(g, 1 / 6, type)]), inside]);
      return [times(g, g.op('Add', [h, slope]))];
    },
  },
  /** ȳ·(1 − y²). */
  unary('Tanh', Math.tanh, (g) => {
    const y = g.forwardOutput(0);
    return [times(g, g.op('Sub', [scalar(g, 1, inputDataType(g)), g.op('Mul', [y, y])]))];
  }),
  /** ȳ·2/√π·e^(−x²). */
  unary(
    'Erf',
    erf,
    (g) => {
      const x = g.inputName(0);
      const gaussian = g.op('Exp', [g.op('Neg', [g.op('Mul', [x, x])])]);
      return [times(g, g.op('Mul', [gaussian, scalar(g, 2 / Math.sqrt(Math.PI), inputDataType(g))]))];
    },
    9,
  ),
  {
    opType: 'Gelu',
    inferTypes: (ctx) => {
      requireOpset(ctx, 20);
      geluApproximation(ctx);
      return [ctx.input(0)];
    },
    evaluate: (ctx) => {
      const approximate = geluApproximation(ctx);
      return evaluateElementwise(ctx, ctx.input(0).dataType, (x) => gelu(x, approximate));
    },
    gradient: geluGradient,
  },
  /** y = ln(1 + eˣ); x̄ = ȳ·σ(x). */
  unary(
    'Softplus',
    (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
    (g) => [times(g, g.op('Sigmoid', [g.inputName(0)]))],
  ),
  {
    /** y = x for x > 0, α(eˣ − 1) elsewhere; x̄ = ȳ·(x > 0 ? 1 : y + α): α at 0, as PyTorch. */
    opType: 'Elu',
    inferTypes: (ctx) => [ctx.input(0)],
    evaluate: (ctx) => {
      const alpha = ctx.attributes.float('alpha', 1);
      return evaluateElementwise(ctx, ctx.input(0).dataType, (x) => (x > 0 ? x : alpha * Math.expm1(x)));
    },
    gradient: (g) => {
      const alpha = g.attributes.float('alpha', 1);
      return [times(g, piecewise(g, 1, g.op('Add', [g.forwardOutput(0), scalar(g, alpha, inputDataType(g))])))];
    },
  },
  {
    /** y = γx for x > 0, γα(eˣ − 1) elsewhere; x̄ = ȳ·(x > 0 ? γ : y + γα). */
    opType: 'Selu',
    inferTypes: (ctx) => [ctx.input(0)],
    evaluate: (ctx) => {
      const alpha = ctx.attributes.float('alpha', SELU_ALPHA);
      const gamma = ctx.attributes.float('gamma', SELU_GAMMA);
      return evaluateElementwise(ctx, ctx.input(0).dataType, (x) => gamma * (x > 0 ? x : alpha * Math.expm1(x)));
    },
    gradient: (g) => {
      const alpha = g.attributes.float('alpha', SELU_ALPHA);
      const gamma = g.attributes.float('gamma', SELU_GAMMA);
      return [times(g, piecewise(g, gamma, g.op('Add', [g.forwardOutput(0), scalar(g, gamma * alpha, inputDataType(g))])))];
    },
  },
  {
    /**
     * Inference-mode Dropout is the identity: x̄ = ȳ. The mask output (bool
     * from opset 10, all true in inference) carries no gradient. From opset
     * 12 ratio and training_mode are inputs; a true training_mode is refused.
     */
    opType: 'Dropout',
    inferTypes: (ctx) => {
      checkInferenceMode(ctx);
      const x = ctx.input(0);
      return [x, { dataType: ctx.opset >= 10 ? DataType.BOOL : x.dataType, shape: x.shape }];
    },
    evaluate: (ctx) => {
      checkInferenceMode(ctx);
      const x = ctx.constant(0);
      if (x === undefined) return undefined;
      return [x, constTensor(ctx.opset >= 10 ? DataType.BOOL : x.dataType, x.dims, new Float64Array(x.values.length).fill(1))];
    },
    gradient: (g) => [g.needsGradient(0) ? g.dy(0) : undefined],
  },
  /** y = x/(1 + |x|); x̄ = ȳ/(1 + |x|)². */
  unary(
    'Softsign',
    (x) => x / (1 + Math.abs(x)),
    (g) => {
      const d = g.op('Add', [g.op('Abs', [g.inputName(0)]), scalar(g, 1, inputDataType(g))]);
      return [g.op('Div', [g.dy(0)!, g.op('Mul', [d, d])])];
    },
  ),
];
