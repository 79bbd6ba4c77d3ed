import type { FeedTensor, HostTensor } from './tensor.js';

/**
 * Per-group moments of input gradients, reduced where the gradients live.
 *
 * For `G` groups of `n` consecutive rows, with `g_{j,i}` the gradient of row
 * `i` of group `j` (each of shape `S`, the input shape without its batch axis):
 *
 *   mean[j] = (1/n) Σ_i g_{j,i}
 *   m2[j]   = Σ_i (g_{j,i} − mean[j])²        (summed squared deviations)
 *
 * Both have shape `[G, ...S]`. `m2` is computed from the deviations, never as
 * `Σ g² − n·mean²`, which loses all precision in float32.
 */
export interface GradientMoments {
  readonly count: number;
  readonly mean: HostTensor;
  readonly m2: HostTensor;
}

/**
 * What `gradientMoments` returns for rows it cannot reduce on its device
 * (e.g. a group too large for one run): their per-row gradients, shape
 * `[R, ...S]`, which core then reduces itself.
 */
export interface RowGradients {
  readonly gradients: HostTensor;
}

/**
 * How a `gradients` call differentiates (docs/methods.md, "Modified backward
 * rules"): `backward` names a modified backward pass (e.g.
 * `guided_backprop`) that the backend lists in `backwardRuleSets`; without
 * it, the ordinary vector–Jacobian product.
 */
export interface GradientRequest {
  readonly backward?: string;
}

/**
 * A layer's activation `A` and the gradient `∂ f_{t[r]}(x_r) / ∂ A_r` of each
 * row's target logit with respect to it, both of the layer's shape
 * `[R, C, ...positions]`, and which tensor the backend took as the layer.
 */
export interface LayerGradients {
  readonly layer: string;
  readonly activation: HostTensor;
  readonly gradient: HostTensor;
  /**
   * The model input puts its channels last (`[B, ...positions, C]`, as TF.js
   * models do) while `activation` and `gradient` are still channels first:
   * the map is then resized to the input's positions `1 … rank − 2` and
   * given as `[B, ...positions, 1]`, in the input's layout.
   */
  readonly inputChannelsLast?: boolean;
}

/**
 * What a backend does: run a model, nothing else. Core owns the methods, the
 * noise, the targets, the chunking and the moment formulas; a backend owns
 * only the model and the device it runs on.
 *
 * Let `f` map a batch `x` of shape `[R, ...S]` to logits of shape `[R, K]`.
 *
 * - `logits(x)` returns `f(x)`.
 * - `gradients(x, t)` returns, for each row r, `∂ f_{t[r]}(x_r) / ∂ x_r`:
 *   the input gradient of one chosen logit per row, shape `[R, ...S]`. It is
 *   the vector–Jacobian product of `f` with one-hot cotangent rows. Rows are
 *   independent, so a backend runs them all in one forward and backward
 *   pass; it computes no weight gradients.
 * - `gradientMoments(x, t, n)`, optional, returns the same gradients reduced
 *   to per-group moments (see `GradientMoments`) without reading the
 *   per-row gradients back to the host: a GPU backend keeps them on the
 *   device and returns `2·G` maps instead of `G·n`. Core merges the groups'
 *   moments across calls with Chan's formula. Without it, core reduces the
 *   rows of `gradients` itself; a backend that can reduce some calls but not
 *   others returns `{ gradients }` (see `RowGradients`) for the others.
 *
 * The checks every backend makes the same way (target range and one-hot
 * rows, group size, calls after `dispose`, the `softmax` option) are in
 * `backend-contract.ts`; docs/methods.md gives the rules behind them.
 *
 * Rows passed in one call never exceed the caller's `batchSize`.
 */
export interface GradientBackend {
  /** A short name for messages and reports, e.g. `tfjs-webgl`. */
  readonly name: string;

  /**
   * Throws an `AttributionError` with code `INVALID_SHAPE` when the model
   * cannot take a batch of this shape, naming the shape it accepts. Called
   * before any work; optional for backends that cannot know.
   */
  checkInputShape?(shape: readonly number[]): void;

  logits(x: HostTensor): Promise<HostTensor>;

  /**
   * The names of the modified backward passes `gradients` runs when a
   * `GradientRequest` asks for one; absent or empty: none. Core refuses a
   * method that needs one missing here (`UNSUPPORTED_METHOD`) before any work.
   */
  readonly backwardRuleSets?: readonly string[];

  gradients(x: HostTensor, targets: Int32Array, request?: GradientRequest): Promise<HostTensor>;

  /**
   * Optional: the activation of `layer` (a backend-specific name; undefined:
   * the backend's default layer, the last spatial feature map before global
   * pooling or flattening) and its gradient, for layer methods (Grad-CAM).
   */
  layerGradients?(x: HostTensor, targets: Int32Array, layer: string | undefined): Promise<LayerGradients>;

  gradientMoments?(x: HostTensor, targets: Int32Array, groupSize: number): Promise<GradientMoments | RowGradients>;

  /**
   * Optional, for a backend that attributes at a tensor inside the model
   * (its `layer` option, or the embedding output of a token-id input): the
   * value of that tensor for this model input, which `explain` then takes
   * as `x` (docs/methods.md, "Attribution at a tensor"). Noise, the input
   * multiplication and integration paths all live at that tensor.
   */
  attributedInput?(input: FeedTensor): Promise<HostTensor>;

  /** Frees what the backend holds on its device. */
  dispose?(): void | Promise<void>;
}
