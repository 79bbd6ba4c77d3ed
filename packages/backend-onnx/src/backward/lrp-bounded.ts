import { clipBounds } from '../ops/activations.js';
import type { GradientRule } from '../ops/op-definition.js';
import { maskOf, scalar, zeroMaskOf } from '../ops/rule-helpers.js';

/**
 * LRP through a bounded activation y = Clip(x, lo, hi) (ReLU6 is Clip(x, 0, 6)):
 * relevance passes unchanged, R(x) = R(y), as the composites of Zennit and
 * SignXAI pass it through every element-wise activation (docs/methods.md,
 * "LRP"). Under R = a ⊙ c that is x̄ = ȳ · y/x where x ≠ 0 and 0 where x = 0
 * (inside the range y/x = 1, the ordinary gradient; beyond a bound the
 * gradient would be 0 and drop the relevance). Both bounds must be known when
 * the graph is built: before opset 11 they are attributes, from 11 optional
 * inputs, which must then be constants.
 */
export const clipPassesRelevance: GradientRule = (g) => {
  const { lo, hi } = clipBounds(g);
  for (const [bound, name] of [
    [lo, 'min'],
    [hi, 'max'],
  ] as const) {
    if (bound !== undefined && bound.value === undefined) {
      g.fail(
        `LRP passes relevance through Clip with constant bounds only, and its ${name} (input ${bound.input}, "${g.inputName(bound.input!)}") ` +
          'is computed in the graph (docs/methods.md, "LRP")',
      );
    }
  }
  const type = g.input(0).dataType;
  const x = g.inputName(0);
  const k = (v: number) => scalar(g, v, type);
  const zero = zeroMaskOf(g, x, type);
  const safe = g.op('Add', [x, zero]);
  // y/x piece by piece, with masks and Div only (the WebGL EP has no Max or Min):
  // inside · 1 + Σ outside · bound/x, inside = 1 − Σ outside.
  let inside = k(1);
  const pieces: string[] = [];
  for (const [bound, past] of [
    [lo, 'Less'],
    [hi, 'Greater'],
  ] as const) {
    if (bound === undefined) continue;
    const outside = maskOf(g, g.op(past, [x, k(bound.value!)]), type);
    inside = g.op('Sub', [inside, outside]);
    pieces.push(g.op('Mul', [outside, g.op('Div', [k(bound.value!), safe])]));
  }
  const ratio = pieces.reduce((sum, piece) => g.op('Add', [sum, piece]), inside);
  // No relevance sits at x = 0 (R = x ⊙ c): 0 there.
  return [g.op('Mul', [g.dy(0)!, g.op('Mul', [ratio, g.op('Sub', [k(1), zero])])])];
};
