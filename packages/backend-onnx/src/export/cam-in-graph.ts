import { AttributionError, methodRule, resizeLinear, sizeOf, type MethodRule } from '@saliency/core';
import type { GraphEmitter } from '../autodiff/graph-emitter.js';

/** Channel weights w_c [B, C, 1, ...] from the layer's activation A and gradient G [B, C, ...positions]. */
type ChannelWeights = (emitter: GraphEmitter, activation: string, gradient: string, layerShape: readonly number[]) => string;

const positionAxes = (layerShape: readonly number[]) => layerShape.slice(2).map((_, i) => i + 2);

/** Grad-CAM: w_c = mean over positions of G_c. */
const meanGradient: ChannelWeights = (emitter, _activation, gradient, layerShape) =>
  emitter.reduce('ReduceMean', gradient, layerShape, positionAxes(layerShape), true);

/**
 * Grad-CAM++ (docs/methods.md, "Grad-CAM"): with S = Σ_p A_p and G⁺ = max(G, 0),
 * α_p = G⁺² / (2·G⁺² + S·G⁺²·G⁺ + 1e-6), w_c = Σ_p α_p · G⁺. Where G ≤ 0
 * the numerator is 0 and the denominator 1e-6, so α_p · G⁺ is 0 there, as
 * core skips those positions.
 */
const plusPlusWeights: ChannelWeights = (emitter, activation, gradient, layerShape) => {
  const axes = positionAxes(layerShape);
  const op = (type: string, a: string, b: string) => emitter.node(type, [a, b], 1)[0]!;
  const total = emitter.reduce('ReduceSum', activation, layerShape, axes, true);
  const positive = emitter.node('Relu', [gradient], 1)[0]!;
  const square = op('Mul', positive, positive);
  const cubeTerm = op('Mul', op('Mul', total, square), positive);
  const denominator = op('Add', op('Add', op('Mul', square, emitter.literal([2], [1])), cubeTerm), emitter.literal([1e-6], [1]));
  const alpha = op('Div', square, denominator);
  return emitter.reduce('ReduceSum', op('Mul', alpha, positive), layerShape, axes, true);
};

/** The built-in layer rules by identity (packages/core/src/methods/grad-cam.ts), each with its channel weights. */
const BUILT_IN = new Map<MethodRule, ChannelWeights>([
  [methodRule('grad_cam'), meanGradient],
  [methodRule('grad_cam_timeseries'), meanGradient],
  [methodRule('grad_cam_plus_plus'), plusPlusWeights],
]);

/** The layer methods an attribution model can be exported for. */
export const EXPORTABLE_LAYER_METHODS: readonly string[] = [...BUILT_IN.keys()].map((rule) => rule.name);

/** A layer method's map as ONNX nodes, from the layer's activation and gradient. */
export interface CamInGraph {
  map(emitter: GraphEmitter, activation: string, gradient: string, layerShape: readonly number[], inputShape: readonly number[]): string;
}

/**
 * The graph form of a built-in layer method (docs/methods.md, "Grad-CAM"),
 * or `INVALID_OPTION` for a layer rule registered with `registerMethod`,
 * whose map exists only as JavaScript. From the layer's activation and
 * gradient of shape `layerShape` [B, C, ...positions], its map
 * `[B, 1, ...input positions]` is cam = ReLU(Σ_c w_c A_c) resized linearly
 * with half-pixel centres to the input's positions. The resize is one MatMul
 * per axis with the interpolation matrix core's own `resizeLinear` gives (its
 * columns are the resized unit vectors): the library's taps exactly, with no
 * dependence on how a runtime's Resize rounds coordinates. A layer or input
 * the method does not take gets core's own refusal (`INVALID_SHAPE`).
 */
export function camInGraph(rule: MethodRule): CamInGraph {
  const weigh = BUILT_IN.get(rule);
  const layerRule = rule.layer;
  if (weigh === undefined || layerRule === undefined) {
    throw new AttributionError(
      'INVALID_OPTION',
      `method "${rule.name}" cannot be exported: its layer map is a JavaScript function, which an ONNX graph cannot hold; ` +
        `exportable layer methods: ${EXPORTABLE_LAYER_METHODS.join(', ')}`,
    );
  }
  return {
    map: (emitter, activation, gradient, layerShape, inputShape) => {
      // The rule checks the ranks of layer and input itself (naming the other Grad-CAM), on one zero example.
      const [, channels, ...positions] = layerShape as [number, number, ...number[]];
      const zero = { data: new Float32Array(channels * sizeOf(positions)), shape: [1, channels, ...positions] };
      layerRule.map(zero, zero, [1, ...inputShape.slice(1)]);

      const weights = weigh(emitter, activation, gradient, layerShape);
      const weighted = emitter.node('Mul', [weights, activation], 1)[0]!;
      let map = emitter.node('Relu', [emitter.reduce('ReduceSum', weighted, layerShape, [1], true)], 1)[0]!;
      // Along the last axis first, then (images) the one before it, as core's bilinear resize mixes them.
      const to = inputShape.slice(2);
      const last = positions.length - 1;
      const across = emitter.literal(interpolation(positions[last]!, to[last]!, true), [positions[last]!, to[last]!]);
      map = emitter.node('MatMul', [map, across], 1)[0]!;
      if (positions.length === 2) {
        const down = emitter.literal(interpolation(positions[0]!, to[0]!, false), [to[0]!, positions[0]!]);
        map = emitter.node('MatMul', [down, map], 1)[0]!;
      }
      return map;
    },
  };
}

/**
 * The matrix of core's linear resize of one axis from `from` to `to`
 * positions: [to, from], or its transpose [from, to].
 */
function interpolation(from: number, to: number, transposed: boolean): Float64Array {
  const matrix = new Float64Array(from * to);
  const unit = new Float64Array(from);
  for (let i = 0; i < from; i++) {
    unit.fill(0);
    unit[i] = 1;
    const column = resizeLinear(unit, [from], [to]);
    for (let o = 0; o < to; o++) matrix[transposed ? i * to + o : o * from + i] = column[o]!;
  }
  return matrix;
}
