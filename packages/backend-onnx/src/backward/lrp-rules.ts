import type { LrpInputRule, LrpLayerRule } from '@saliency/core';
import type { ConstTensor } from '../model/const-tensor.js';
import type { GradientContext } from '../ops/op-definition.js';
import { maskOf, scalar, zeroMaskOf } from '../ops/rule-helpers.js';
import { mapWeight, type LinearLayer } from './linear-layer.js';

/*
 * LRP's rules at one linear layer z = L(x; W) + b (docs/methods.md, "LRP").
 * Relevance travels as a cotangent c with R = a ⊙ c at every tensor a, so
 * that each op outside the linear layers keeps its ordinary rule; at the
 * layer, R_out = z ⊙ z̄ and a rule returns x̄ = c_in with
 * R_in = x ⊙ c_in. A first-layer rule (w², flat, zB) returns R_in itself.
 */

const positive = (v: number) => Math.max(v, 0);
const negative = (v: number) => Math.min(v, 0);

/** x̄ of the ratio rules: ε (ε = 0: the z-rule, the ordinary gradient), z⁺, αβ, γ. */
export function layerRule(g: GradientContext, layer: LinearLayer, rule: LrpLayerRule): string {
  const dz = g.dy(0)!;
  if (rule.kind === 'epsilon' && rule.epsilon === 0) return layer.backward(dz, layer.weight);
  const h = helpers(g, layer);
  const relevance = g.op('Mul', [layer.z, dz]);
  switch (rule.kind) {
    case 'epsilon': {
      // z + ε·s(z) with s(0) = +1; ε = f·std(x) of each example for `_std_x`.
      const epsilon = rule.stdX ? g.op('Mul', [h.exampleStd(layer.x), h.scalar(rule.epsilon)]) : h.scalar(rule.epsilon);
      const sign = g.op('Sub', [h.scalar(1), g.op('Mul', [h.mask(g.op('Less', [layer.z, h.scalar(0)])), h.scalar(2)])]);
      const stabilised = g.op('Add', [layer.z, g.op('Mul', [epsilon, sign])]);
      return layer.backward(g.op('Div', [relevance, stabilised]), layer.weight);
    }
    case 'zplus': {
      const wPlus = mapWeight(layer.weight, positive);
      return layer.backward(h.quotient(relevance, layer.forward(layer.x, wPlus)), wPlus);
    }
    case 'gamma': {
      const wGamma = mapWeight(layer.weight, (v) => v + rule.gamma * positive(v));
      let z = layer.forward(layer.x, wGamma);
      if (layer.bias !== undefined) z = g.op('Add', [z, h.constant(mapWeight(layer.bias, (v) => v + rule.gamma * positive(v)))]);
      return layer.backward(h.quotient(relevance, z), wGamma);
    }
    case 'alpha_beta': {
      // (x w)⁺ = x⁺w⁺ + x⁻w⁻ and (x w)⁻ = x⁺w⁻ + x⁻w⁺; x⁺/x = [x > 0], x⁻/x = [x < 0].
      const [wPlus, wMinus] = [mapWeight(layer.weight, positive), mapWeight(layer.weight, negative)];
      const xPlus = g.op('Relu', [layer.x]);
      const xMinus = g.op('Sub', [layer.x, xPlus]);
      const [above, below] = [h.mask(g.op('Greater', [layer.x, h.scalar(0)])), h.mask(g.op('Less', [layer.x, h.scalar(0)]))];
      const part = (share: number, onPositive: typeof wPlus, onNegative: typeof wPlus) => {
        const z = g.op('Add', [layer.forward(xPlus, onPositive), layer.forward(xMinus, onNegative)]);
        const s = h.quotient(g.op('Mul', [relevance, h.scalar(share)]), z);
        return g.op('Add', [g.op('Mul', [above, layer.backward(s, onPositive)]), g.op('Mul', [below, layer.backward(s, onNegative)])]);
      };
      const activating = part(rule.alpha, wPlus, wMinus);
      return rule.beta === 0 ? activating : g.op('Sub', [activating, part(rule.beta, wMinus, wPlus)]);
    }
  }
}

/** R_in of a first-layer rule: w², flat (bias ignored), or zB with the box [l, h]. */
export function inputRule(g: GradientContext, layer: LinearLayer, rule: LrpInputRule): string {
  const h = helpers(g, layer);
  const relevance = g.op('Mul', [layer.z, g.dy(0)!]);
  if (rule.kind !== 'box') {
    const w = rule.kind === 'w_square' ? mapWeight(layer.weight, (v) => v * v) : mapWeight(layer.weight, () => 1);
    const ones = g.op('Add', [g.op('Mul', [layer.x, h.scalar(0)]), h.scalar(1)]);
    return layer.backward(h.quotient(relevance, layer.forward(ones, w)), w);
  }
  // Bounds broadcast to x's shape: given, or each example's own min and max.
  const bound = (value: number | undefined, op: string) =>
    g.op('Add', [g.op('Mul', [layer.x, h.scalar(0)]), value === undefined ? h.exampleReduce(op, layer.x) : h.scalar(value)]);
  const [low, high] = [bound(rule.low, 'ReduceMin'), bound(rule.high, 'ReduceMax')];
  const [wPlus, wMinus] = [mapWeight(layer.weight, positive), mapWeight(layer.weight, negative)];
  const z = g.op('Sub', [g.op('Sub', [layer.forward(layer.x, layer.weight), layer.forward(low, wPlus)]), layer.forward(high, wMinus)]);
  const s = h.quotient(relevance, z);
  const term = (input: string, w: typeof wPlus) => g.op('Mul', [input, layer.backward(s, w)]);
  return g.op('Sub', [g.op('Sub', [term(layer.x, layer.weight), term(low, wPlus)]), term(high, wMinus)]);
}

/** Small emitters in the layer's float type. */
function helpers(g: GradientContext, layer: LinearLayer) {
  const type = layer.xType.dataType;
  const rank = layer.xType.shape.length;
  const exampleAxes = Array.from({ length: rank - 1 }, (_, i) => i + 1);
  const reduce = (op: string, input: string) => g.reduce(op, input, layer.xType.shape, exampleAxes, true);
  const self = {
    scalar: (v: number) => scalar(g, v, type),
    mask: (condition: string) => maskOf(g, condition, type),
    constant: (t: ConstTensor) => g.literal(t.values, t.dims, t.dataType),
    /** r / Z with Z = 0 replaced by 1: where Z = 0 every term of Z is 0, so is every share. */
    quotient: (r: string, z: string) => g.op('Div', [r, g.op('Add', [z, zeroMaskOf(g, z, type)])]),
    exampleReduce: reduce,
    /** The population standard deviation over each example, [B, 1, ...]. */
    exampleStd: (x: string) => {
      const deviation = g.op('Sub', [x, reduce('ReduceMean', x)]);
      return g.op('Sqrt', [reduce('ReduceMean', g.op('Mul', [deviation, deviation]))]);
    },
  };
  return self;
}
