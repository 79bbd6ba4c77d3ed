import { clipBounds } from '../ops/activations.js';
import type { GradientRule } from '../ops/op-definition.js';
import { scalar, zeroMaskOf } from '../ops/rule-helpers.js';

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
  // y recomputed from x, not read from the forward output, as the ReLU rule does on WebGL.
  let y = x;
  if (lo !== undefined) y = g.op('Max', [y, scalar(g, lo.value!, type)]);
  if (hi !== undefined) y = g.op('Min', [y, scalar(g, hi.value!, type)]);
  const zero = zeroMaskOf(g, x, type);
  // y/x with x = 0 replaced by 1, then 0 there: no relevance sits at x = 0 (R = x ⊙ c).
  const ratio = g.op('Mul', [g.op('Div', [y, g.op('Add', [x, zero])]), g.op('Sub', [scalar(g, 1, type), zero])]);
  return [g.op('Mul', [g.dy(0)!, ratio])];
};
