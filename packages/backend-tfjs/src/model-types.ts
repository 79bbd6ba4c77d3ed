import type { Tensor } from '@tensorflow/tfjs-core';

/*
 * Structural descriptions of the TF.js models this backend accepts. They name
 * only what the backend uses, so that the package needs neither
 * @tensorflow/tfjs-layers nor @tensorflow/tfjs-converter, at run time or in its
 * type declarations; a real `tf.LayersModel` or `tf.GraphModel` fits them.
 */

/** Keyword arguments of a layer call, e.g. `{ training: false }`. */
export type LayerCallArgs = { readonly [key: string]: unknown };

/** A layer of a `tf.LayersModel` (a nested model is one too). */
export interface LayerLike {
  readonly name: string;
  getClassName(): string;
  getConfig(): { readonly [key: string]: unknown };
  getWeights(trainableOnly?: boolean): Tensor[];
  /** On concrete tensors, runs the layer and returns its output(s). */
  apply(inputs: Tensor | Tensor[], kwargs?: LayerCallArgs): unknown;
}

/** A `tf.SymbolicTensor`: an edge of a LayersModel's graph. */
export interface SymbolicTensorLike {
  readonly name: string;
  readonly shape: readonly (number | null)[];
  readonly dtype?: string;
  readonly sourceLayer: LayerLike;
  /** The inputs of the layer call that produced this tensor. */
  readonly inputs: readonly SymbolicTensorLike[];
  /** The keyword arguments of that call. */
  readonly callArgs?: LayerCallArgs;
  /** Which output of that call this is, for layers with several. */
  readonly outputTensorIndex?: number | undefined;
}

/** A `tf.LayersModel` (or `tf.Sequential`). */
export interface LayersModelLike extends LayerLike {
  readonly layers: readonly LayerLike[];
  readonly inputs: readonly SymbolicTensorLike[];
  readonly outputs: readonly SymbolicTensorLike[];
}

/** What a `tf.GraphModel` says about one of its inputs or outputs. */
export interface GraphTensorInfoLike {
  readonly name: string;
  readonly shape?: readonly number[] | undefined;
  readonly dtype?: string;
}

/** A `tf.GraphModel`, loaded and synchronous (no control flow). */
export interface GraphModelLike {
  readonly inputs: readonly GraphTensorInfoLike[];
  readonly outputs: readonly GraphTensorInfoLike[];
  readonly outputNodes: readonly string[];
  /**
   * Runs the graph up to the named node(s) (its default outputs if none).
   * A dict may hold any node of the graph, whose value then replaces what
   * the graph would compute there.
   */
  execute(inputs: Tensor | { [name: string]: Tensor }, outputs?: string | string[]): Tensor | Tensor[];
  /** The graph's constants by node name (LRP reads the weighted ops' kernels, biases and batch norms). */
  readonly weights?: { readonly [name: string]: Tensor[] };
}

/** A differentiable function from a batch `[R, ...S]` to logits `[R, K]`. */
export type ModelFunction = (x: Tensor) => Tensor;

/** Any model the backend can run. */
export type TfjsModel = LayersModelLike | GraphModelLike | ModelFunction;

export function isLayersModel(model: TfjsModel): model is LayersModelLike {
  return typeof model === 'object' && model !== null && Array.isArray((model as Partial<LayersModelLike>).layers);
}

export function isGraphModel(model: TfjsModel): model is GraphModelLike {
  return (
    typeof model === 'object' &&
    model !== null &&
    !isLayersModel(model) &&
    Array.isArray((model as Partial<GraphModelLike>).outputNodes) &&
    typeof (model as Partial<GraphModelLike>).execute === 'function'
  );
}
