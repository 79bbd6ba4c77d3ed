import type * as tf from '@tensorflow/tfjs-core';
import { AttributionError, type LrpRuleSet, type OutputPosition } from '@saliency/core';
import type { FeedValues, ModelInput } from './feeds.js';
import type { ModelFunction } from './model-types.js';

/**
 * What the backend differentiates.
 *
 * - `'strip'` (default): the logits. A LayersModel or GraphModel whose last
 *   operation is a probability head — a softmax, a log-softmax, or a sigmoid
 *   on a [B, K] output (binary or multi-label) — is run up to that
 *   operation's input, as the method contract asks (gradients are of logits,
 *   never of probabilities; docs/methods.md). With `outputPosition`, a
 *   sigmoid on an output of any rank is one (docs/methods.md, "Output
 *   position").
 * - `'keep'`: the model's output as it is, its softmax or sigmoid included.
 *
 * A plain function is always taken as it is: it is trusted to return logits.
 */
export type SoftmaxHandling = 'strip' | 'keep';

/** Which parts of a model the backend runs: its options that pick them. */
export interface ModelParts {
  readonly softmax: SoftmaxHandling;
  readonly inputName?: string | undefined;
  readonly outputName?: string | undefined;
  readonly layer?: string | undefined;
  /** The position of a sequence or dense output explained (`output-position.ts`). */
  readonly outputPosition?: OutputPosition | undefined;
}

/**
 * A model cut at a layer (Grad-CAM): the layer's activation for the rows
 * given, and the logits as a function of a value of that activation, every
 * other value of the model held at what the rows give it.
 */
export interface LayerSplit {
  readonly name: string;
  readonly activation: tf.Tensor;
  logitsFrom(activation: tf.Tensor): tf.Tensor;
}

/**
 * A model reduced to what the backend runs: logits `[R, K]` as a function of
 * the attributed value `x` — the attributed model input, or with the `layer`
 * option that layer's activation (docs/methods.md, "Attribution at a
 * tensor") — and the other inputs' values.
 */
export interface LogitsFunction {
  run(x: tf.Tensor, feeds: FeedValues): tf.Tensor;
  /** The shape `x` takes, `null` where any size goes; `undefined` if unknown. */
  readonly inputShape: readonly (number | null)[] | undefined;
  /** The shape the model declares for the output explained, batch axis first, `null` where any size goes; `undefined` if unknown. */
  readonly outputShape?: readonly (number | null)[] | undefined;
  /** Which model kind this is, what was stripped, where it is attributed, for messages. */
  readonly description: string;
  /** Every input of the model (none for a function). */
  readonly inputs: readonly ModelInput[];
  /** The attributed model input's name (undefined for a function). */
  readonly attributedInputName: string | undefined;
  /** With the `layer` option: that layer's activation for a value `u` of the attributed model input. */
  readonly attributedValue?: (u: tf.Tensor, feeds: FeedValues) => tf.Tensor;
  /** The model cut at `layer` (undefined: the default layer of docs/methods.md, "Grad-CAM") for the rows `x`. */
  layerSplit(layer: string | undefined, x: tf.Tensor, feeds: FeedValues): LayerSplit;
  /**
   * The logits with LRP's rule set `set` as the weighted layers' gradients
   * (docs/methods.md, "LRP"): a LayersModel's (`lrp-model.ts`) or a
   * GraphModel's (`lrp-graph.ts`), attributed at its input; refuses, naming
   * the layer or node, what the rules do not cover. Absent where LRP does
   * not run: a function, a model attributed at a layer.
   */
  readonly lrp?: (set: LrpRuleSet) => ModelFunction;
}

/** The default Grad-CAM layer's test on a channels-last shape `[B, ...positions, C]` of the attributed value's rank. */
export function isFeatureMap(shape: readonly (number | null)[], rank: number): boolean {
  return rank >= 3 && shape.length === rank && shape.slice(1, -1).some((d) => d === null || d > 1);
}

/**
 * Whether a value is a TF.js tensor. Structural rather than `instanceof`, which
 * fails when a bundle holds two copies of tfjs-core (their engine is shared).
 */
export function isTensor(value: unknown): value is tf.Tensor {
  return typeof value === 'object' && value !== null && 'dataId' in value && Array.isArray((value as tf.Tensor).shape);
}

export function asTensor(result: unknown, what: string): tf.Tensor {
  if (Array.isArray(result)) {
    throw new AttributionError('BACKEND_OUTPUT', `${what} returned ${result.length} tensors; expected one tensor [R, K]`);
  }
  if (!isTensor(result)) {
    throw new AttributionError('BACKEND_OUTPUT', `${what} did not return a tensor`);
  }
  return result;
}

export function unstrippable(where: string): AttributionError {
  return new AttributionError(
    'UNSUPPORTED_MODEL',
    `createTfjsBackend: the model ends in a softmax or sigmoid fused into ${where}, which cannot be removed. ` +
      'Gradients are taken of logits: pass a function (x: tf.Tensor) => tf.Tensor that returns the logits, ' +
      "or pass { softmax: 'keep' } to differentiate the output as it is",
  );
}

/** The `layer` option names what no candidate is: the message lists (the last of) those there are. */
export function unknownLayer(layer: string, why: string, candidates: readonly string[]): AttributionError {
  const shown = candidates.slice(-12);
  return new AttributionError(
    'INVALID_OPTION',
    `layer ${JSON.stringify(layer)} ${why}; layers between the attributed input and the logits` +
      `${candidates.length > shown.length ? ` (the last ${shown.length} of ${candidates.length})` : ''}: ${shown.join(', ') || 'none'}`,
  );
}

/** The attributed input reaches the logits around the `layer`: a method at that layer would not see all of the model. */
export function notSeparating(layer: string, input: string, through: string): AttributionError {
  return new AttributionError(
    'INVALID_OPTION',
    `layer ${JSON.stringify(layer)} does not separate the input "${input}" from the logits: ${through} reads the input ` +
      'without passing the layer (attribution at a tensor needs every path from the input to the logits to pass it)',
  );
}
