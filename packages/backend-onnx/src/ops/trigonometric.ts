import { scalar, unary } from './rule-helpers.js';

/** Sin and Cos (opset 7): x̄ = ȳ·cos x and x̄ = −ȳ·sin x. */
export const TRIGONOMETRIC_OPS = [
  unary('Sin', Math.sin, (g) => [g.op('Mul', [g.dy(0)!, g.op('Cos', [g.inputName(0)])])]),
  unary('Cos', Math.cos, (g) => [
    g.op('Mul', [g.dy(0)!, g.op('Mul', [g.op('Sin', [g.inputName(0)]), scalar(g, -1, g.input(0).dataType)])]),
  ]),
];
