import { applyAxisMaps, emitTransposedAxisMaps, type AxisMap } from './axis-map.js';
import { normalizeAxes } from './layout.js';
import type { NodeContext, OpDefinition } from './op-definition.js';

/*
 * Resize (opset 10, 11, 13, 18, 19) and Upsample (7, 9): every mode
 * interpolates each axis on its own, so the op is one linear map per resized
 * axis (axis-map.ts), applied in turn; its gradient applies their transposes
 * to ȳ in reverse order. The maps are worked out at build time from the
 * static shapes, so the gradient graph is MatMuls against constants.
 */

const COORDINATE_MODES = [
  'half_pixel',
  'half_pixel_symmetric',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_half_pixel_for_nearest',
];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil', 'simple'];

interface ResizeGeometry {
  readonly shape: number[];
  readonly maps: AxisMap[];
}

/** A known input's values, or undefined when omitted or empty (Resize-13 takes an empty scales when sizes is given). */
function optionalValues(ctx: NodeContext, index: number, name: string): number[] | undefined {
  if (!ctx.hasInput(index)) return undefined;
  const value = ctx.constant(index);
  if (value === undefined) ctx.fail(`${name} (input ${index}) must be known when the model is built`);
  return value!.values.length === 0 ? undefined : Array.from(value!.values);
}

/** The per-axis scales and output lengths, from scales or sizes (with axes and keep_aspect_ratio_policy from opset 18). */
function targetSizes(ctx: NodeContext, input: readonly number[]): { scales: number[]; sizes: number[] } {
  const rank = input.length;
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (ctx.node.opType === 'Upsample' && ctx.opset < 9) scales = ctx.attributes.floats('scales');
  else if (ctx.node.opType === 'Upsample' || ctx.opset < 11) scales = optionalValues(ctx, 1, 'scales');
  else {
    scales = optionalValues(ctx, 2, 'scales');
    sizes = optionalValues(ctx, 3, 'sizes');
  }
  if ((scales === undefined) === (sizes === undefined)) ctx.fail('exactly one of scales and sizes must be given');
  const axes =
    ctx.opset >= 18 && ctx.attributes.has('axes') ? normalizeAxes(ctx.attributes.ints('axes', []), rank, ctx) : input.map((_, a) => a);
  const given = (scales ?? sizes)!;
  if (given.length !== axes.length) ctx.fail(`${scales ? 'scales' : 'sizes'} [${given.join(', ')}] must have ${axes.length} entries`);
  const allScales = input.map(() => 1);
  const allSizes = [...input];
  if (scales !== undefined) {
    axes.forEach((a, i) => {
      if (!(scales![i]! > 0)) ctx.fail(`scale ${scales![i]} is not positive`);
      allScales[a] = scales![i]!;
      allSizes[a] = Math.floor(input[a]! * scales![i]!);
    });
    return { scales: allScales, sizes: allSizes };
  }
  const policy = ctx.opset >= 18 ? ctx.attributes.string('keep_aspect_ratio_policy', 'stretch') : 'stretch';
  const ratios = axes.map((a, i) => sizes![i]! / input[a]!);
  if (policy !== 'stretch') {
    if (policy !== 'not_larger' && policy !== 'not_smaller')
      ctx.fail(`keep_aspect_ratio_policy "${policy}" is not one of "stretch", "not_larger", "not_smaller"`);
    const ratio = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    axes.forEach((a) => {
      allScales[a] = ratio;
      allSizes[a] = Math.round(ratio * input[a]!);
    });
  } else {
    axes.forEach((a, i) => {
      allScales[a] = ratios[i]!;
      allSizes[a] = sizes![i]!;
    });
  }
  return { scales: allScales, sizes: allSizes };
}

/**
 * Where output position o samples the input, in input coordinates, in
 * float32 arithmetic step by step as ONNX Runtime computes it: nearest
 * neighbours flip where float64 would land on the other side of a rounding.
 */
function sourceCoordinate(mode: string, o: number, n: number, d: number, scale: number): number {
  const f = Math.fround;
  const s = f(scale);
  switch (mode) {
    case 'half_pixel':
      return f(f(f(o + 0.5) / s) - 0.5);
    case 'half_pixel_symmetric': {
      const adjustment = f(n / f(s * d));
      return f(f(f(d / 2) * f(1 - adjustment)) + f(f(f(o + 0.5) / s) - 0.5));
    }
    case 'pytorch_half_pixel':
      return n > 1 ? f(f(f(o + 0.5) / s) - 0.5) : 0;
    case 'align_corners':
      return n === 1 ? 0 : f(f(o * (d - 1)) / (n - 1));
    case 'tf_half_pixel_for_nearest':
      return f(f(o + 0.5) / s);
    default:
      return f(o / s);
  }
}

function nearestIndex(rounding: string, x: number, s: number): number {
  switch (rounding) {
    case 'round_prefer_ceil':
      return Math.round(x);
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'simple':
      // Upsample and Resize-10 as ONNX Runtime computes them: truncation, rounding up when shrinking.
      return s < 1 ? Math.ceil(x) : Math.trunc(x);
    default:
      return x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x);
  }
}

/** The weights of the four taps at ⌊x⌋ − 1 … ⌊x⌋ + 2 for the fraction t (Keys' cubic convolution with parameter a). */
function cubicWeights(t: number, a: number): number[] {
  const far = (u: number) => ((a * u - 5 * a) * u + 8 * a) * u - 4 * a;
  const near = (u: number) => ((a + 2) * u - (a + 3)) * u * u + 1;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

function resizeGeometry(ctx: NodeContext): ResizeGeometry {
  const input = ctx.input(0).shape;
  const legacy = ctx.node.opType === 'Upsample' || ctx.opset < 11;
  let mode = ctx.attributes.string('mode', 'nearest');
  if (mode === 'bilinear' && ctx.node.opType === 'Upsample') mode = 'linear';
  if (mode !== 'nearest' && mode !== 'linear' && (legacy || mode !== 'cubic')) {
    ctx.fail(`mode "${mode}" is not supported; expected "nearest", "linear"${legacy ? '' : ' or "cubic"'}`);
  }
  const coordinates = legacy ? 'asymmetric' : ctx.attributes.string('coordinate_transformation_mode', 'half_pixel');
  if (!COORDINATE_MODES.includes(coordinates) || (coordinates === 'half_pixel_symmetric' && ctx.opset < 19)) {
    ctx.fail(
      `coordinate_transformation_mode "${coordinates}" is not supported; expected one of ${COORDINATE_MODES.map((m) => `"${m}"`).join(', ')}`,
    );
  }
  const rounding = legacy ? 'simple' : ctx.attributes.string('nearest_mode', 'round_prefer_floor');
  if (!NEAREST_MODES.includes(rounding)) ctx.fail(`nearest_mode "${rounding}" is not supported`);
  if (ctx.attributes.int('antialias', 0) !== 0) ctx.fail('antialias = 1 is not supported');
  const a = ctx.attributes.float('cubic_coeff_a', -0.75);
  const excludeOutside = ctx.attributes.int('exclude_outside', 0) !== 0;
  const { scales, sizes } = targetSizes(ctx, input);
  const maps: AxisMap[] = [];
  input.forEach((d, axis) => {
    const n = sizes[axis]!;
    const s = scales[axis]!;
    const weights = new Float64Array(n * d);
    const clamp = (i: number) => Math.min(Math.max(i, 0), d - 1);
    const addWeight = (o: number, i: number, w: number) => (weights[o * d + i] = weights[o * d + i]! + w);
    for (let o = 0; o < n; o++) {
      const x = sourceCoordinate(coordinates, o, n, d, s);
      if (mode === 'nearest') {
        weights[o * d + clamp(nearestIndex(rounding, x, s))] = 1;
      } else if (mode === 'linear') {
        const c = clamp(x);
        const low = Math.floor(c);
        const high = Math.min(low + 1, d - 1);
        addWeight(o, low, 1 - (c - low));
        addWeight(o, high, c - low);
      } else {
        const low = Math.floor(x);
        const taps = cubicWeights(x - low, a).map((w, k) => ({ i: low - 1 + k, w }));
        const kept = excludeOutside ? taps.filter(({ i }) => i >= 0 && i < d) : taps;
        const total = excludeOutside ? kept.reduce((sum, { w }) => sum + w, 0) : 1;
        for (const { i, w } of kept) addWeight(o, clamp(i), w / total);
      }
    }
    const identity = n === d && weights.every((w, k) => w === (Math.floor(k / d) === k % d ? 1 : 0));
    if (!identity) maps.push({ axis, n, d, weights });
  });
  return { shape: sizes, maps };
}

function resizeOp(opType: string): OpDefinition {
  return {
    opType,
    inferTypes: (ctx) => [{ dataType: ctx.input(0).dataType, shape: resizeGeometry(ctx).shape }],
    evaluate: (ctx) => {
      const x = ctx.constant(0);
      return x === undefined ? undefined : [applyAxisMaps(x, resizeGeometry(ctx).maps)];
    },
    gradient: (g) => {
      const grads: Array<string | undefined> = new Array(g.inputCount).fill(undefined);
      if (!g.needsGradient(0)) return grads;
      const { shape, maps } = resizeGeometry(g);
      grads[0] = emitTransposedAxisMaps(g, g.dy(0)!, shape, maps);
      return grads;
    },
  };
}

export const RESIZE_OPS: readonly OpDefinition[] = [resizeOp('Resize'), resizeOp('Upsample')];
