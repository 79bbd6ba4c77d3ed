import * as tf from '@tensorflow/tfjs-core';
import { AttributionError, isInputRule, type LrpRuleSet } from '@saliency/core';
import { clipPassingRelevance } from './lrp-bounded.js';
import { describeLayer, LINEAR_LAYERS, linearLayer } from './lrp-layer.js';
import { relevanceLayer } from './lrp-rules.js';
import type { LayerLike, LayersModelLike, ModelFunction, SymbolicTensorLike } from './model-types.js';

/*
 * LRP on a LayersModel (docs/methods.md, "LRP"): the model is run layer by
 * layer, each Conv1D, Conv2D, DepthwiseConv2D and Dense layer (with the
 * BatchNormalization it feeds folded in) as a TF.js custom gradient whose
 * backward step is the layer's LRP rule; every other layer runs as it is and
 * keeps its ordinary gradient, which under R = a ⊙ c is its LRP rule. The
 * backend's `tf.grad` of the target logits then gives c at the input.
 */

/** Layers whose values pass unchanged: the first layers' rules see the input through them. */
const THROUGH = new Set(['InputLayer', 'Flatten', 'Reshape', 'Dropout']);
/**
 * Layers whose ordinary gradient is their LRP rule: ReLU passes relevance (a
 * ReLU with `maxValue`, ReLU6, is `clipPassingRelevance`),
 * max pooling gives it to the winner, average pooling and Add split it in
 * proportion to the contributions, zero padding gives its padding none.
 */
const PROPORTIONAL = new Set([
  'ReLU',
  'MaxPooling1D',
  'MaxPooling2D',
  'AveragePooling1D',
  'AveragePooling2D',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'Add',
  'ZeroPadding2D',
]);
/** Activations (of an Activation layer or inside a linear one) that pass relevance; relu6 as `clipPassingRelevance`. */
const PASSING = new Set(['relu', 'relu6', 'linear']);
/** Activations that make a probability head, removed from the model's output when the backend strips it. */
const HEADS = new Set(['softmax', 'logSoftmax', 'sigmoid']);
const FOLDED_INTO = new Set(['Conv1D', 'Conv2D', 'DepthwiseConv2D']);
/** `Conv1D, Conv2D, DepthwiseConv2D`, for messages. */
const FOLDED_INTO_NAMES = [...FOLDED_INTO].join(', ');

interface Value {
  readonly tensor: tf.Tensor;
  /** The model input itself, reached through THROUGH layers only. */
  readonly fromInput: boolean;
}

/**
 * The logits of `output` of `model` with LRP's rules (`set`) as the linear
 * layers' gradients; `stripHead`: a softmax or sigmoid ending the model is
 * left out. Refuses, naming the layer, any layer outside the rules.
 */
export function lrpLogits(model: LayersModelLike, output: SymbolicTensorLike, set: LrpRuleSet, stripHead: boolean): ModelFunction {
  const input = model.inputs[0]!;
  const consumers = countConsumers(output);
  const activationOf = (layer: LayerLike) => {
    const activation = layer.getConfig()['activation'];
    return typeof activation === 'string' ? activation : 'linear';
  };
  const refuse = (layer: LayerLike, why: string): never => {
    throw new AttributionError('UNSUPPORTED_MODEL', `${describeLayer(layer)}: ${why} (docs/methods.md, "LRP")`);
  };
  const noRule = (layer: LayerLike, what: string): never =>
    refuse(
      layer,
      `LRP has no rule for ${what}; it propagates relevance through ${LINEAR_LAYERS.join(', ')} (activation ${[...PASSING].join(', ')}), ` +
        `${[...PROPORTIONAL, ...THROUGH].join(', ')} (ReLU with or without maxValue), Activation (${[...PASSING].join(', ')}) and ` +
        `BatchNormalization after a ${FOLDED_INTO_NAMES}`,
    );

  return (x) => {
    const values = new Map<SymbolicTensorLike, Value>([[input, { tensor: x, fromInput: true }]]);
    const evaluate = (t: SymbolicTensorLike): Value => {
      const known = values.get(t);
      if (known !== undefined) return known;
      const layer = t.sourceLayer;
      const className = layer.getClassName();
      if (t.inputs.length === 0) {
        throw new AttributionError('UNSUPPORTED_MODEL', `the LayersModel's tensor ${t.name} does not depend on its input`);
      }
      const isOutput = t === output;
      let value: Value;
      if (className === 'BatchNormalization') {
        const source = t.inputs[0]!;
        const axis = layer.getConfig()['axis'];
        // The channel axis of the convolution's output: 2 of a Conv1D's [B, L, C], 3 of [B, H, W, C].
        const last = source.sourceLayer.getClassName() === 'Conv1D' ? 2 : 3;
        const foldable =
          t.inputs.length === 1 &&
          FOLDED_INTO.has(source.sourceLayer.getClassName()) &&
          activationOf(source.sourceLayer) === 'linear' &&
          consumers.get(source) === 1 &&
          (axis === -1 || axis === last || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === last)));
        if (!foldable) {
          refuse(
            layer,
            `LRP folds BatchNormalization (over the last axis) into the ${FOLDED_INTO_NAMES} before it, but its input "${source.name}" ` +
              'is not the output of one with a linear activation that only it reads',
          );
        }
        value = linear(source, layer, 'linear');
      } else if ((LINEAR_LAYERS as readonly string[]).includes(className)) {
        const activation = activationOf(layer);
        if (!PASSING.has(activation) && !(isOutput && stripHead && HEADS.has(activation))) noRule(layer, `the activation ${activation}`);
        value = linear(t, undefined, PASSING.has(activation) ? activation : 'linear');
      } else if (isOutput && stripHead && (className === 'Softmax' || (className === 'Activation' && HEADS.has(activationOf(layer))))) {
        value = evaluate(t.inputs[0]!);
      } else if (
        THROUGH.has(className) ||
        PROPORTIONAL.has(className) ||
        (className === 'Activation' && PASSING.has(activationOf(layer)))
      ) {
        const args = t.inputs.map(evaluate);
        if (isInputRule(set.first) && !THROUGH.has(className) && args.some((a) => a.fromInput)) {
          refuse(
            layer,
            `it reads the model input before any ${LINEAR_LAYERS.join(', ')}; the first-layer rules w², flat and zB need the input ` +
              `to reach those layers through ${[...THROUGH].join(', ')} only`,
          );
        }
        const tensors = args.map((a) => a.tensor);
        const maxValue = className === 'ReLU' ? layer.getConfig()['maxValue'] : undefined;
        const result =
          className === 'Activation'
            ? activate(tensors[0]!, activationOf(layer))
            : typeof maxValue === 'number'
              ? clipPassingRelevance(tensors[0]!, 0, maxValue)
              : layer.apply(tensors.length === 1 ? tensors[0]! : tensors, { ...t.callArgs, training: false });
        value = { tensor: result as tf.Tensor, fromInput: THROUGH.has(className) && args.every((a) => a.fromInput) };
      } else {
        noRule(layer, className === 'Activation' ? `the activation ${activationOf(layer)}` : className);
      }
      values.set(t, value!);
      return value!;
    };

    /** `t`, the output of a linear layer, with `batchNorm` folded in and then `activation`. */
    const linear = (t: SymbolicTensorLike, batchNorm: LayerLike | undefined, activation: string): Value => {
      let source = t.inputs[0]!;
      // A ZeroPadding2D that only a `valid` convolution reads becomes that layer's padding.
      let padding: [number, number][] | undefined;
      const config = t.sourceLayer.getConfig();
      if (
        FOLDED_INTO.has(t.sourceLayer.getClassName()) &&
        config['padding'] === 'valid' &&
        source.sourceLayer.getClassName() === 'ZeroPadding2D' &&
        source.sourceLayer.getConfig()['dataFormat'] !== 'channelsFirst' &&
        consumers.get(source) === 1
      ) {
        padding = source.sourceLayer.getConfig()['padding'] as [number, number][];
        source = source.inputs[0]!;
      }
      const x = evaluate(source);
      const layer = linearLayer(t.sourceLayer, x.tensor.rank, padding, batchNorm);
      const rule = x.fromInput ? set.first : layer.kind === 'conv' ? set.conv : set.dense;
      const z = relevanceLayer(layer, rule)(x.tensor);
      return { tensor: activate(z, activation), fromInput: false };
    };

    return evaluate(output).tensor;
  };
}

/** One of the PASSING activations, with LRP's rule as its gradient (also a GraphModel's, `lrp-graph.ts`). */
export function activate(z: tf.Tensor, activation: string): tf.Tensor {
  if (activation === 'relu') return tf.relu(z);
  if (activation === 'relu6') return clipPassingRelevance(z, 0, 6);
  return z;
}

/** How many layer calls read each tensor on the way to `output`. */
function countConsumers(output: SymbolicTensorLike): Map<SymbolicTensorLike, number> {
  const counts = new Map<SymbolicTensorLike, number>();
  const seen = new Set<readonly SymbolicTensorLike[]>();
  const visit = (t: SymbolicTensorLike) => {
    if (seen.has(t.inputs)) return;
    seen.add(t.inputs);
    for (const i of t.inputs) {
      counts.set(i, (counts.get(i) ?? 0) + 1);
      visit(i);
    }
  };
  visit(output);
  return counts;
}
