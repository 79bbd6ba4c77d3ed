import * as tf from '@tensorflow/tfjs-core';
import {
  AttributionError,
  checkNoiseDescription,
  checkGroupSize,
  checkOutputPosition,
  checkTargetCount,
  disposedError,
  formatShape,
  hostTensor,
  LRP_RULE_SET_FAMILY,
  oneHotRows,
  outputPositionHint,
  parseLrpRuleSet,
  sizeOf,
  softmaxOption,
  type FeedTensor,
  type GradientBackend,
  type GradientMoments,
  type GradientRequest,
  type HostTensor,
  type LayerGradients,
  type LrpRuleSet,
  type NoiseDescription,
  type OutputPosition,
} from '@saliency/core';
import { deviceNoiseKind, noisyRowsOnDevice } from './device-noise/programs.js';
import { checkFeeds, feedTensor, feedValues, type Feed, type FeedValues } from './feeds.js';
import { withGradientPass } from './gradient-pass.js';
import { BACKWARD_RULE_SET_NAMES, backwardRules } from './backward-rules.js';
import { assertGradientsRegistered, disposeAbandonedTape, explainMissingGradient } from './gradient-registration.js';
import { logitsFunction, type LogitsFunction, type SoftmaxHandling } from './logits-function.js';
import type { ModelFunction, TfjsModel } from './model-types.js';

export interface TfjsBackendOptions {
  /**
   * What is differentiated when the model ends in a probability head (a
   * softmax, log-softmax, or a sigmoid on its [B, K] output): `'strip'`
   * (default) takes gradients of the logits before it, `'keep'` of the
   * probabilities. A plain function is always taken as it is.
   */
  readonly softmax?: SoftmaxHandling;
  /**
   * The output explained, for a model with several: a LayersModel's output
   * (tensor or layer name) or any node of a GraphModel (e.g. the logits node
   * before a softmax, or one head of several). Must give logits `[R, K]`.
   */
  readonly outputName?: string;
  /**
   * The input attributed, for a model with several: a LayersModel's input
   * tensor name or a GraphModel's input name. Every other input is given in
   * `feeds`.
   */
  readonly inputName?: string;
  /**
   * The values of the model's other inputs, by input name, held fixed: a
   * batch of 1 is repeated over every row of a call, a batch equal to the
   * call's rows is taken row by row (docs/methods.md, "Attribution at a
   * tensor").
   */
  readonly feeds?: Readonly<Record<string, FeedTensor>>;
  /**
   * Attribute at this layer instead of at the input (a LayersModel's layer
   * or tensor name, a GraphModel's node): `attributedInput(u)` gives its
   * activation, which is then the `x` of every call; every path from the
   * attributed input to the logits must pass it.
   */
  readonly layer?: string;
  /**
   * The position of a sequence or dense output explained (docs/methods.md,
   * "Output position"): one entry per output axis after the batch axis, an
   * index, a range `[start, end)` averaged, or `null` for the class axis
   * (exactly one). Taken after the probability head is left out; every
   * method then explains the `[B, K]` values there.
   */
  readonly outputPosition?: OutputPosition;
}

/**
 * Creates a `GradientBackend` that runs a TF.js model on whichever TF.js
 * backend is active when it is called (cpu, wasm, webgl, webgpu).
 *
 * `model` is a `tf.LayersModel`, a `tf.GraphModel` (no control flow) or a function `(x: tf.Tensor) => tf.Tensor` returning
 * logits `[R, K]`. TF.js's gradients must be registered (see the README).
 */
export function createTfjsBackend(model: TfjsModel, options: TfjsBackendOptions = {}): TfjsBackend {
  return new TfjsBackend(model, options);
}

/**
 * The TF.js `GradientBackend`. For a batch `x` of `R` rows and targets `t`,
 * one forward and one backward pass give every row's input gradient,
 *
 *   g_r = ∂/∂x_r Σ_{r'} f_{t_{r'}}(x_{r'}) = ∂ f_{t_r}(x_r) / ∂ x_r,
 *
 * since rows do not interact; only input gradients are computed, never the
 * weights'. See `withGradientRules` for the tie rules it applies.
 */
export class TfjsBackend implements GradientBackend {
  readonly #model: LogitsFunction;
  /** A LayersModel's or GraphModel's filters are weights; a function's may be computed from its input. */
  readonly #filtersAreWeights: boolean;
  readonly #feeds: readonly Feed[];
  /** LRP's run of the model, where it has one (a LayersModel or GraphModel attributed at its only input). */
  readonly #lrp: ((set: LrpRuleSet) => ModelFunction) | undefined;
  #disposed = false;

  constructor(model: TfjsModel, options: TfjsBackendOptions = {}) {
    const softmax = softmaxOption('createTfjsBackend', options.softmax);
    const outputPosition =
      options.outputPosition === undefined ? undefined : checkOutputPosition(options.outputPosition, 'createTfjsBackend');
    assertGradientsRegistered();
    this.#model = logitsFunction(model, {
      softmax,
      inputName: options.inputName,
      outputName: options.outputName,
      layer: options.layer,
      outputPosition,
    });
    // Where the model declares its output's shape, the position is checked against it now, not at the first call.
    if (outputPosition !== undefined && this.#model.outputShape !== undefined) {
      checkOutputPosition(outputPosition, 'createTfjsBackend', this.#model.outputShape.slice(1));
    }
    const attributed = this.#model.attributedInputName;
    if (attributed === undefined && options.feeds !== undefined) {
      throw new AttributionError('INVALID_OPTION', 'createTfjsBackend: feeds applies to a LayersModel or GraphModel, not to a function');
    }
    this.#feeds = attributed === undefined ? [] : checkFeeds(this.#model.inputs, attributed, options.feeds, this.#model.description);
    this.#filtersAreWeights = typeof model !== 'function';
    // LRP reads the layers or nodes of a one-input model from its input to the
    // output; a model attributed at a layer or given feeds is not that.
    this.#lrp = this.#feeds.length === 0 ? this.#model.lrp : undefined;
  }

  /** The runtime id (core's `RUNTIME_IDS`): `tfjs-` and the TF.js backend active now, e.g. `tfjs-webgl`. */
  get name(): string {
    return `tfjs-${tf.getBackend()}`;
  }

  /** The input shape the model declares (`null`: any size), if it declares one. */
  get inputShape(): readonly (number | null)[] | undefined {
    return this.#model.inputShape;
  }

  /** What is run: the model kind, and the softmax removed if one was. */
  get description(): string {
    return this.#model.description;
  }

  checkInputShape(shape: readonly number[]): void {
    // Core checks the whole input, whose batch size need not be a call's row
    // count; a fixed batch size is checked per call instead.
    this.#checkShape(shape, false);
  }

  async logits(x: HostTensor): Promise<HostTensor> {
    this.#checkCall(x);
    const rows = x.shape[0]!;
    let logits: tf.Tensor;
    try {
      logits = tf.tidy(() => {
        const output = this.#model.run(tf.tensor(x.data, [...x.shape], 'float32'), this.#feedValues(rows));
        this.#checkOutput(output, rows);
        return tf.cast(output, 'float32');
      });
    } catch (error) {
      throw this.#modelFailed(error, 'the logits', x.shape);
    }
    return download(logits, x.data);
  }

  /**
   * The modified backward passes `gradients` runs (`backward-rules.ts`):
   * `guided_backprop`, `deconvnet`, and on a LayersModel every LRP rule set
   * (`lrp`, docs/methods.md, "LRP"; `lrp-model.ts`).
   */
  get backwardRuleSets(): readonly string[] {
    return this.#lrp === undefined ? BACKWARD_RULE_SET_NAMES : [...BACKWARD_RULE_SET_NAMES, LRP_RULE_SET_FAMILY];
  }

  /** The input gradients, or with `request.backward` the "gradients" of that modified backward pass. */
  async gradients(x: HostTensor, targets: Int32Array, request: GradientRequest = {}): Promise<HostTensor> {
    this.#checkCall(x, targets);
    const lrp = request.backward === undefined ? undefined : parseLrpRuleSet(request.backward);
    // LRP replaces the model run (its layers carry the rules); every other pass replaces kernel gradients.
    let rules: readonly tf.GradConfig[] = [];
    let run: ((input: tf.Tensor, feeds: FeedValues) => tf.Tensor) | undefined;
    if (lrp === undefined) {
      rules = backwardRules(request.backward, this.backwardRuleSets);
    } else {
      if (this.#lrp === undefined) {
        throw new AttributionError(
          'UNSUPPORTED_METHOD',
          `${this.name}: LRP (${request.backward}) runs on a one-input LayersModel or GraphModel without layer or feeds, whose layers or nodes it reads; this backend runs a ${this.#model.description}`,
        );
      }
      const lrpRun = this.#lrp(lrp);
      run = (input) => lrpRun(input);
    }
    const input = () => tf.tensor(x.data, [...x.shape], 'float32');
    return download(
      this.#computeGradients(x.shape, input, targets, request.examples, (g) => g, rules, run),
      x.data,
    );
  }

  /**
   * With `g` reshaped to `[G, n, D]` on the device (`n = groupSize`):
   * `mean = (1/n) Σ_i g[:, i]`, `m2 = Σ_i (g[:, i] − mean)²`, two passes on the
   * device; only `mean` and `m2` are read back.
   */
  async gradientMoments(x: HostTensor, targets: Int32Array, groupSize: number, request: GradientRequest = {}): Promise<GradientMoments> {
    this.#checkCall(x, targets);
    checkGroupSize(x.shape[0]!, groupSize);
    const input = () => tf.tensor(x.data, [...x.shape], 'float32');
    return this.#moments(x.shape, input, targets, request.examples, groupSize, x.data);
  }

  /**
   * True on webgl (WebGL 2, float32 textures) and webgpu: there
   * `noisyGradientMoments` generates core's noise on the device.
   */
  get deviceNoise(): boolean {
    return deviceNoiseKind() !== undefined;
  }

  /**
   * `gradientMoments` of the rows `x[g] + σ_g · z(…)` that `noise` describes,
   * made on the device by a GLSL or WGSL program (`device-noise/`): only the
   * clean examples `[G, ...S]` and σ are uploaded, never the `G·n` rows.
   */
  async noisyGradientMoments(x: HostTensor, noise: NoiseDescription, targets: Int32Array): Promise<GradientMoments> {
    if (this.#disposed) throw disposedError(this.name);
    if (deviceNoiseKind() === undefined) {
      throw new AttributionError('UNSUPPORTED_METHOD', `${this.name}: TF.js backend ${tf.getBackend()} generates no noise on its device`);
    }
    checkNoiseDescription(this.name, x, noise);
    const rowShape = [x.shape[0]! * noise.samples, ...noise.exampleShape];
    this.#checkShape(rowShape, true);
    checkTargetCount(this.name, targets, rowShape[0]!);
    const size = sizeOf(noise.exampleShape);
    const input = () => tf.reshape(noisyRowsOnDevice(tf.tensor2d(x.data, [x.shape[0]!, size], 'float32'), noise), rowShape);
    // Row r is a sample of example firstExample + ⌊r / samples⌋, whose feed row it takes.
    const examples = Int32Array.from({ length: rowShape[0]! }, (_, r) => noise.firstExample + Math.floor(r / noise.samples));
    return this.#moments(rowShape, input, targets, examples, noise.samples, x.data);
  }

  /**
   * With `g` reshaped to `[G, n, D]` on the device (`n = groupSize`):
   * `mean = (1/n) Σ_i g[:, i]`, `m2 = Σ_i (g[:, i] − mean)²`, two passes on the
   * device; only `mean` and `m2` are read back.
   */
  async #moments(
    shape: readonly number[],
    input: () => tf.Tensor,
    targets: Int32Array,
    examples: Int32Array | undefined,
    groupSize: number,
    hostInput: Float32Array,
  ): Promise<GradientMoments> {
    const groups = shape[0]! / groupSize;
    const exampleShape = shape.slice(1);
    const [mean, m2] = this.#computeGradients(shape, input, targets, examples, (g) => {
      const grouped = tf.reshape(g, [groups, groupSize, sizeOf(exampleShape)]);
      const groupMean = tf.mean(grouped, 1, true);
      const deviationSquares = tf.square(tf.sub(grouped, groupMean));
      return [tf.reshape(groupMean, [groups, ...exampleShape]), tf.reshape(tf.sum(deviationSquares, 1), [groups, ...exampleShape])];
    });
    const [meanHost, m2Host] = await Promise.all([download(mean, hostInput), download(m2, hostInput)]);
    return { count: groupSize, mean: meanHost, m2: m2Host };
  }

  dispose(): void {
    // The backend owns no tensors: the model's weights stay the caller's.
    this.#disposed = true;
  }

  /**
   * The activation of `layer` (default: the last feature map of the input's
   * rank before global pooling or flattening, docs/methods.md "Grad-CAM") and
   * the gradient of each row's target logit with respect to it. TF.js
   * models put channels last: both are moved to channels first
   * (`[R, C, ...positions]`) on the device, and the map is given in the
   * input's layout (`inputChannelsLast`).
   */
  async layerGradients(
    x: HostTensor,
    targets: Int32Array,
    layer: string | undefined,
    request: GradientRequest = {},
  ): Promise<LayerGradients> {
    this.#checkCall(x, targets);
    const rows = x.shape[0]!;
    let name = '';
    const [activation, gradient] = this.#differentiate(x.shape, 'the layer gradients', () => {
      const split = this.#model.layerSplit(layer, tf.tensor(x.data, [...x.shape], 'float32'), this.#feedValues(rows, request.examples));
      name = split.name;
      const activation = tf.cast(split.activation, 'float32');
      const gradient = tf.grad((a: tf.Tensor) => this.#targetSum(split.logitsFrom(a), targets))(activation);
      const channelsFirst = [0, activation.rank - 1, ...Array.from({ length: activation.rank - 2 }, (_, i) => i + 1)];
      return [tf.transpose(activation, channelsFirst), tf.transpose(gradient, channelsFirst)];
    });
    const [activationHost, gradientHost] = await Promise.all([download(activation, x.data), download(gradient, x.data)]);
    return { layer: name, activation: activationHost, gradient: gradientHost, inputChannelsLast: true };
  }

  /**
   * With the `layer` option, that layer's activation for the model input `u`
   * (the `x` to explain); otherwise `u` itself as float32
   * (docs/methods.md, "Attribution at a tensor").
   */
  async attributedInput(u: FeedTensor): Promise<HostTensor> {
    if (this.#disposed) throw disposedError(this.name);
    const attributedValue = this.#model.attributedValue;
    if (attributedValue === undefined) {
      return hostTensor(Float32Array.from(u.data instanceof BigInt64Array ? Array.from(u.data, Number) : u.data), u.shape);
    }
    const rows = u.shape[0] ?? 0;
    let value: tf.Tensor;
    try {
      value = tf.tidy(() => {
        const input = this.#model.inputs.find((i) => i.name === this.#model.attributedInputName);
        return tf.cast(attributedValue(feedTensor(u, input?.dtype), this.#feedValues(rows)), 'float32');
      });
    } catch (error) {
      throw this.#modelFailed(error, 'the attributed layer', u.shape);
    }
    return download(value, new Float32Array(0));
  }

  /**
   * Σ_r logits[r, targets[r]]: its gradient is each row's target-logit
   * gradient, rows being independent. Only the one-hot rows of the targets'
   * runs (`targetRuns`) are uploaded and tiled on the device, and the sum is
   * a dot product (TF.js's gradient of `sum` would upload ones of the
   * logits' shape), so that a call of noisy samples, which come in runs of
   * one target, uploads nothing that grows with its rows.
   */
  #targetSum(output: tf.Tensor, targets: Int32Array): tf.Tensor {
    const rows = targets.length;
    this.#checkOutput(output, rows);
    const classes = output.shape[1]!;
    const { values, runLength } = targetRuns(targets);
    if (!values.every((t) => Number.isInteger(t) && t >= 0 && t < classes)) oneHotRows(targets, classes); // its INVALID_TARGET names the row
    const runs = tf.tensor3d(oneHotRows(values, classes), [values.length, 1, classes]);
    const cotangent = tf.reshape(tf.tile(runs, [1, runLength, 1]), [rows * classes]);
    return tf.dot(tf.reshape(tf.cast(output, 'float32'), [rows * classes]), cotangent);
  }

  /**
   * Input gradients of the target logits, passed through `reduce`, in one
   * `#differentiate` pass.
   */
  #computeGradients<T extends tf.TensorContainer>(
    shape: readonly number[],
    input: () => tf.Tensor,
    targets: Int32Array,
    examples: Int32Array | undefined,
    reduce: (gradients: tf.Tensor) => T,
    backward: readonly tf.GradConfig[] = [],
    run: (input: tf.Tensor, feeds: FeedValues) => tf.Tensor = (input, feeds) => this.#model.run(input, feeds),
  ): T {
    const rows = shape[0]!;
    return this.#differentiate(
      shape,
      'the input gradients',
      () => {
        const feeds = this.#feedValues(rows, examples);
        return reduce(tf.grad((rowsIn: tf.Tensor) => this.#targetSum(run(rowsIn, feeds), targets))(input()));
      },
      backward,
    );
  }

  /**
   * Runs a gradient computation in one synchronous tidy (so nothing but the
   * returned tensors survives) with the gradient rules installed only for its
   * duration (`withGradientPass`).
   */
  #differentiate<T extends tf.TensorContainer>(
    shape: readonly number[],
    what: string,
    compute: () => T,
    backward: readonly tf.GradConfig[] = [],
  ): T {
    try {
      return withGradientPass(this.#filtersAreWeights, () => tf.tidy(compute), backward);
    } catch (error) {
      disposeAbandonedTape();
      throw this.#modelFailed(explainMissingGradient(error), what, shape);
    }
  }

  /** The feeds as tensors of `rows` rows, row r of example `examples[r]` (inside a tidy). */
  #feedValues(rows: number, examples?: Int32Array): FeedValues {
    return feedValues(this.#feeds, rows, this.name, examples);
  }

  /**
   * The model's own exception (not one of ours), wrapped with what was being
   * computed and on which shape; the original stays as `cause`.
   */
  #modelFailed(error: unknown, what: string, shape: readonly number[]): unknown {
    if (error instanceof AttributionError) return error;
    return new AttributionError(
      'MODEL_FAILED',
      `${this.name}: ${this.#model.description} threw while computing ${what} of a batch of shape ${formatShape(shape)}: ` +
        `${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }

  #checkCall(x: HostTensor, targets?: Int32Array): void {
    if (this.#disposed) throw disposedError(this.name);
    if (x.shape.length < 1) {
      throw new AttributionError('INVALID_SHAPE', `${this.name}: input of shape ${formatShape(x.shape)} has no batch axis`);
    }
    this.#checkShape(x.shape, true);
    if (targets !== undefined) checkTargetCount(this.name, targets, x.shape[0]!);
  }

  #checkShape(shape: readonly number[], withBatch: boolean): void {
    const accepted = this.#model.inputShape;
    if (accepted === undefined) return;
    const fits =
      shape.length === accepted.length &&
      accepted.every((size, axis) => size === null || (axis === 0 && !withBatch) || size === shape[axis]);
    if (!fits) {
      throw new AttributionError(
        'INVALID_SHAPE',
        `${this.#model.description} takes input of shape [${accepted.map((d) => d ?? 'any').join(', ')}], ` + `got ${formatShape(shape)}`,
      );
    }
  }

  #checkOutput(output: tf.Tensor, rows: number): void {
    if (output.rank !== 2 || output.shape[0] !== rows) {
      throw new AttributionError(
        'BACKEND_OUTPUT',
        `${this.#model.description} returned a tensor of shape ${formatShape(output.shape)} for ${rows} rows; ` +
          `expected logits of shape [${rows}, K]` +
          (output.rank >= 3 && output.shape[0] === rows ? outputPositionHint(output.shape) : ''),
      );
    }
  }
}

/** Reads a tensor back to the host and disposes it, also when reading fails. */
async function download(tensor: tf.Tensor, input: Float32Array): Promise<HostTensor> {
  try {
    const values = await tensor.data<'float32'>();
    // The cpu backend may hand back the very array it was given (a model that
    // returns its input): never return the caller's own input array.
    const data = values instanceof Float32Array && values.buffer !== input.buffer ? values : Float32Array.from(values);
    return hostTensor(data, tensor.shape);
  } finally {
    tensor.dispose();
  }
}

/**
 * `targets` as `values.length` runs of `runLength` equal targets each, with
 * the fewest runs that split the rows evenly (one run per example for core's
 * noisy samples; one per row at worst).
 */
function targetRuns(targets: Int32Array): { values: Int32Array; runLength: number } {
  const rows = targets.length;
  for (let runs = 1; runs < rows; runs++) {
    if (rows % runs !== 0) continue;
    const runLength = rows / runs;
    if (targets.every((t, r) => t === targets[r - (r % runLength)])) {
      return { values: targets.filter((_, r) => r % runLength === 0), runLength };
    }
  }
  return { values: targets, runLength: 1 };
}
