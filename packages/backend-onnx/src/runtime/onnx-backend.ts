import {
  AttributionError,
  checkGroupSize,
  checkNoiseDescription,
  checkOutputPosition,
  checkTargetCount,
  disposedError,
  formatShape,
  hostTensor,
  noisyRows,
  oneHotRows,
  sizeOf,
  softmaxOption,
  type FeedTensor,
  type GradientBackend,
  type GradientMoments,
  type GradientRequest,
  type LayerGradients,
  type HostTensor,
  type NoiseDescription,
  type OutputPosition,
  type RowGradients,
} from '@saliency/core';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import {
  buildGradientModel,
  COTANGENT_INPUT,
  GRADIENT_OUTPUT,
  LAYER_ACTIVATION_OUTPUT,
  LAYER_GRADIENT_OUTPUT,
  LOGITS_OUTPUT,
  M2_OUTPUT,
  MEAN_OUTPUT,
  type GradientModelRequest,
  type Precision,
} from '../autodiff/build-gradient-model.js';
import {
  defaultTextureRowLimit,
  EXECUTION_PROVIDERS,
  executionProviderOf,
  type ExecutionProvider,
} from '../execution-provider/execution-provider.js';
import { resolveBudgets, type ModelBudgets } from '../model/budgets.js';
import { chooseInputOutput, declaredOutputShape, declaredShape, graphInputs } from '../model/graph-io.js';
import { BACKWARD_RULE_SET_NAMES, backwardRuleSet } from '../backward/rule-set.js';
import { readOnnxModel } from '../model/onnx-model.js';
import { activationFittingCount } from './activation-plan.js';
import { prepareModel } from '../passes/prepare-model.js';
import { foldScalarFeeds } from '../passes/fold-scalar-feeds.js';
import { fixedBatchError, oneRowWarning, planBatch, type BatchPlan } from '../passes/fixed-batch.js';
import { batchInference } from '../autodiff/batch-inference.js';
import type { ModelProto, ValueInfoProto } from '../proto/onnx_pb.js';
import type { OnnxRuntimeModule } from './onnx-runtime-module.js';
import { batchTextureRows, concatRows, largestFittingCount, pieces, sliceRows } from './row-splitting.js';
import { onnxRuntimeId } from './runtime-id.js';
import { sessionOptionsWithDefaults } from './session-defaults.js';
import { cachedSession, cacheBytesOption, SessionCache, type CachedSession } from './session-cache.js';
import { feedShapes, inputNameLeft, resolveFeed, resolveFeeds, rowExamples, scalarFeedValues, type ResolvedFeed } from '../model/feeds.js';
import { feedTensors } from './feeds.js';
import { ancestors } from '../autodiff/infer-graph.js';
import { attributedTensor } from '../autodiff/attributed-tensor.js';
import { decideConstantBranches } from '../autodiff/constant-branches.js';
import { remainderAt } from '../passes/cut-at-tensor.js';
import { AttributedInput } from './attributed-input.js';
import { hasDeviceNoise, isDeviceFeed, noisyRowsFeed, type DeviceFeed } from './device-noise.js';
import { packOutputs } from '../passes/pack-outputs.js';
import { CapturedBindings, capturedSessionOptions, graphCaptureOption, withoutGraphCapture } from './graph-capture.js';
import { checkFiniteOutputs, checkShaderF16, precisionOption } from './float16-support.js';

export interface OnnxBackendOptions {
  /** Which graph input is explained, when the model has several (default: the only one, or the only one `feeds` leaves). */
  readonly inputName?: string;
  /**
   * Every other graph input the explained output needs, by name, held fixed
   * (docs/methods.md, "Attribution at a tensor"): an attention mask, token
   * type ids, a second image. Batch axis first, of 1 (shared by every
   * example) or of the batch of `x` (row b for example b, repeated over its
   * noisy samples and path points); the rest of its shape as the input
   * declares it. int64 inputs take a `BigInt64Array` or an `Int32Array`.
   */
  readonly feeds?: Readonly<Record<string, FeedTensor>>;
  /**
   * A tensor inside the model to attribute at instead of the input
   * (docs/methods.md, "Attribution at a tensor"): every method then runs at
   * that tensor, whose value for a model input `backend.attributedInput(u)`
   * computes, and only the model after it is differentiated. Default: none,
   * except for an input of integer token ids looked up by a Gather on a
   * float table, where it is that Gather's output (the embeddings).
   */
  readonly layer?: string;
  /** Which graph output holds the logits, when the model has several. */
  readonly outputName?: string;
  /**
   * `'strip'` (default): a final Softmax, LogSoftmax or Sigmoid (a
   * probability head) is left out, so that gradients are of the logits;
   * `'keep'`: the output is differentiated as it is.
   */
  readonly softmax?: 'strip' | 'keep';
  /**
   * One position of a sequence or dense output to explain, as [B, K] logits
   * (docs/methods.md, "Output position"): one entry per output axis after
   * the batch axis, a number fixing the axis at that index, a `[start, end)`
   * pair averaging over that range, `null` for the class axis the target
   * indexes (exactly one). E.g. a recogniser's [B, T, K]: `[t, null]`; a
   * detector's [B, 1, H, W]: `[null, y, x]` or `[null, [y0, y1], [x0, x1]]`.
   * Selected after the final Softmax or Sigmoid is left out. Default: none,
   * the output must be [B, K] (or [B, K, 1, …], or one score [B]).
   */
  readonly outputPosition?: OutputPosition;
  /**
   * Passed to every `InferenceSession.create`, e.g. `{ executionProviders: ['webgpu'] }`,
   * over the backend's defaults (no memory pattern, no spinning intra-op
   * threads: see `session-defaults.ts`), which these override. The first provider also decides which op forms the gradient graph uses
   * (`'webgl'`, `'webgpu'`, or anything else: every op).
   */
  readonly sessionOptions?: InferenceSession.SessionOptions;
  /** The bytes of external data files, by the file name the model gives. */
  readonly externalData?: ReadonlyMap<string, Uint8Array>;
  /**
   * WebGL only: the GPU's maximum texture size (default 8192). A call whose
   * gradient graph would hold a tensor of more texture rows than this (the
   * product of all its dimensions but the last), which the WebGL EP then
   * computes wrong, runs as several calls of fewer rows. WebGL2 guarantees
   * only 2048, but desktop GPUs and SwiftShader offer at least 8192; read
   * yours with `gl.getParameter(gl.MAX_TEXTURE_SIZE)` on a WebGL2 context.
   */
  readonly maxTextureSize?: number;
  /**
   * For tests and advanced use: the execution provider the graphs are built
   * (and, on `'webgl'`, split) for, instead of the one the first of
   * `sessionOptions.executionProviders` implies.
   */
  readonly executionProvider?: ExecutionProvider;
  /**
   * What the model may make the backend allocate, each over its default
   * (`DEFAULT_BUDGETS`, sized for a browser tab; see the README's "Budgets"):
   * the largest folded constant, all folded constants, the largest value of
   * one run (calls over it run as several runs), the node count and the
   * subgraph depth. Over one, `MODEL_TOO_LARGE`, before the allocation.
   */
  readonly budgets?: Partial<ModelBudgets>;
  /**
   * Bound on the estimated bytes of the built graphs and sessions kept for
   * reuse (weights plus planned activations, per input shape and call kind;
   * default 512 MiB): the least recently used are released past it.
   */
  readonly cacheBytes?: number;
  /**
   * Where the backend's warnings go (default `console.warn`): said once per
   * backend, e.g. that a model whose batch is fixed at 1 runs one row per call.
   */
  readonly onWarning?: (message: string) => void;
  /**
   * What the gradient graphs compute in (docs/methods.md, "Precision"):
   * `'float32'` (default), or `'float16'` on the WebGPU EP where the adapter
   * has shader-f16 (refused elsewhere), with float32 inputs and outputs and
   * the moments reduced in float32.
   */
  readonly precision?: Precision;
  /**
   * onnxruntime-web's WebGPU EP only: run each graph with ONNX Runtime's
   * graph capture (`enableGraphCapture`; README, "Graph capture on WebGPU"):
   * its first runs record the GPU commands, later runs of that input shape
   * replay them. Each captured graph keeps GPU buffers of its own for its
   * inputs while it is cached. A graph ONNX Runtime will not capture (a node
   * left to the CPU, a shape not static) runs without, with a warning.
   * Default false; refused off WebGPU.
   */
  readonly graphCapture?: boolean;
}

/**
 * Reads an ONNX model and returns a `GradientBackend` that runs it on the
 * given ONNX Runtime module. Nothing is built until the first call: the
 * gradient graph is made per input shape (and per group size for moments)
 * and its session cached.
 */
export function createOnnxBackend(ort: OnnxRuntimeModule, model: Uint8Array, options: OnnxBackendOptions = {}): OnnxBackend {
  return new OnnxBackend(ort, model, options);
}

/**
 * The ONNX Runtime `GradientBackend`. ONNX Runtime computes no gradients, so
 * for each input shape this backend builds a model returning the logits and
 * the input gradient `x̄ = Jᵀ ȳ` of the cotangent `ȳ` (one-hot rows of the
 * targets), or that gradient's per-group mean and summed squared deviations
 * computed inside the graph, so that only the statistics leave the device.
 */
export class OnnxBackend implements GradientBackend {
  readonly #ort: OnnxRuntimeModule;
  readonly #model: ModelProto;
  /** What the gradient graphs take as their input: the model input, or the tensor attributed at. */
  readonly #input: ValueInfoProto;
  /** The model input. */
  readonly #modelInput: ValueInfoProto;
  readonly #feeds: readonly ResolvedFeed[];
  /** Where the backend attributes at a tensor inside the model: its prefix, which computes that tensor. */
  readonly #prefix: AttributedInput | undefined;
  readonly #outputName: string;
  readonly #keepSoftmax: boolean;
  readonly #outputPosition: OutputPosition | undefined;
  readonly #sessionOptions: InferenceSession.SessionOptions;
  readonly #executionProvider: ExecutionProvider;
  /** The most texture rows a call's graph may hold (WebGL), or undefined: never split. */
  readonly #textureRowLimit: number | undefined;
  readonly #budgets: ModelBudgets;
  /** Per call kind and shape: how many rows (groups, for moments) one run takes; 0: not even one group. */
  readonly #fittingCounts = new Map<string, number>();
  readonly #sessions: SessionCache<CachedSession>;
  /** Calls in progress, which `dispose` waits for before releasing their sessions. */
  readonly #running = new Set<Promise<unknown>>();
  /** Whether any number of rows runs at once, or the model fixes its batch size (passes/fixed-batch.ts). */
  readonly #batchPlan: BatchPlan;
  readonly #onWarning: (message: string) => void;
  readonly #precision: Precision;
  /** float16 only: the adapter's shader-f16, asked once before the first graph is built. */
  #float16Checked: Promise<void> | undefined;
  /** Whether graphs are captured (`graph-capture.ts`); the call kinds whose graph ONNX Runtime would not capture are not tried again. */
  readonly #graphCapture: boolean;
  readonly #captureRefused = new Set<string>();
  #warnedOneRow = false;
  #disposed = false;

  constructor(ort: OnnxRuntimeModule, bytes: Uint8Array, options: OnnxBackendOptions = {}) {
    if (ort === null || typeof ort !== 'object' || typeof ort.InferenceSession?.create !== 'function' || typeof ort.Tensor !== 'function') {
      throw new AttributionError(
        'INVALID_OPTION',
        "createOnnxBackend: the first argument must be an ONNX Runtime module (import * as ort from 'onnxruntime-web' or 'onnxruntime-node')",
      );
    }
    if ('target' in options) {
      // The option's old name: a JavaScript caller would otherwise silently get the provider its sessionOptions imply.
      throw new AttributionError(
        'INVALID_OPTION',
        `createOnnxBackend: option target was renamed executionProvider (one of ${EXECUTION_PROVIDERS.join(', ')})`,
      );
    }
    if (options.executionProvider !== undefined && !EXECUTION_PROVIDERS.includes(options.executionProvider)) {
      throw new AttributionError(
        'INVALID_OPTION',
        `createOnnxBackend: option executionProvider must be one of ${EXECUTION_PROVIDERS.join(', ')}, got ${JSON.stringify(options.executionProvider)}`,
      );
    }
    // Its form before the model is read; its sizes where the output declares them, below, and at the first call.
    if (options.outputPosition !== undefined) checkOutputPosition(options.outputPosition, 'createOnnxBackend');
    this.#ort = ort;
    this.#budgets = resolveBudgets(options.budgets, 'createOnnxBackend');
    const read = prepareModel(readOnnxModel(bytes, options.externalData, this.#budgets));
    // With feeds, the one input they leave is the attributed one.
    const fed = typeof options.feeds === 'object' && options.feeds !== null ? Object.keys(options.feeds) : undefined;
    const { input, outputName } = chooseInputOutput(read, inputNameLeft(graphInputs(read), options.inputName, fed), options.outputName);
    this.#modelInput = input;
    this.#outputName = outputName;
    // A Softmax or Sigmoid left out keeps the declared shape.
    this.#outputPosition =
      options.outputPosition === undefined
        ? undefined
        : checkOutputPosition(options.outputPosition, 'createOnnxBackend', declaredOutputShape(read, outputName));
    const feeds = resolveFeeds(graphInputs(read), input.name, ancestors(read.graph!, [outputName]).inputs, options.feeds);
    const folded = foldScalarFeeds(read, scalarFeedValues(feeds));
    // A layer may lie inside the branch of an If decided by constants (Silero VAD's, on the sample rate): decided first.
    const model = options.layer === undefined ? folded : decideConstantBranches(folded, this.#budgets);
    this.#feeds = feeds.filter((feed) => feed.batchAxis !== undefined);
    if (options.onWarning !== undefined && typeof options.onWarning !== 'function') {
      throw new AttributionError(
        'INVALID_OPTION',
        `createOnnxBackend: option onWarning must be a function, got ${typeof options.onWarning}`,
      );
    }
    this.#onWarning = options.onWarning ?? ((message) => console.warn(message));
    this.#sessionOptions = withoutGraphCapture(sessionOptionsWithDefaults(options.sessionOptions));
    const tensor = attributedTensor(model, input, outputName, options.layer);
    if (tensor === undefined) {
      this.#model = model;
      this.#input = input;
      this.#prefix = undefined;
    } else {
      this.#model = remainderAt(model, tensor.name, tensor.rank);
      this.#input = this.#model.graph!.input.at(-1)!;
      this.#prefix = new AttributedInput(
        ort,
        model,
        this.#model,
        outputName,
        tensor,
        input,
        this.#feeds,
        this.#sessionOptions,
        () => this.name,
      );
    }
    this.#batchPlan = planBatch(this.#model, this.#input, batchInference(this.#model, this.#input.name, outputName, this.#budgets));
    this.#keepSoftmax = softmaxOption('createOnnxBackend', options.softmax) === 'keep';
    this.#executionProvider = options.executionProvider ?? executionProviderOf(options.sessionOptions?.executionProviders);
    this.#precision = precisionOption(options.precision, this.#executionProvider);
    this.#graphCapture = graphCaptureOption(ort, options.graphCapture, options.sessionOptions, this.#executionProvider);
    const { maxTextureSize } = options;
    if (maxTextureSize !== undefined && !(Number.isInteger(maxTextureSize) && maxTextureSize >= 1)) {
      throw new AttributionError(
        'INVALID_OPTION',
        `createOnnxBackend: option maxTextureSize must be a positive integer, got ${String(maxTextureSize)}`,
      );
    }
    const defaultLimit = defaultTextureRowLimit(this.#executionProvider);
    this.#textureRowLimit = defaultLimit === undefined ? undefined : (maxTextureSize ?? defaultLimit);
    this.#sessions = new SessionCache(cacheBytesOption(options.cacheBytes));
  }

  /** The runtime id: `onnx-node`, `onnx-wasm`, `onnx-webgpu`, `onnx-webgl` (see `runtime-id.ts`). */
  get name(): string {
    return onnxRuntimeId(this.#ort, this.#sessionOptions.executionProviders);
  }

  /** The input's declared shape; null where the model leaves a dimension free. */
  get inputShape(): Array<number | null> {
    return declaredShape(this.#input);
  }

  /**
   * The tensor the maps are of: the model input's name, or the tensor inside
   * the model attributed at (the `layer` option, or the embeddings of token ids).
   */
  get attributedTensor(): string {
    return this.#input.name;
  }

  /**
   * The value of the attributed tensor for the model input `input` (with the
   * feeds): what `explain` takes as `x` (docs/methods.md, "Attribution at a
   * tensor"), e.g. the embeddings of token ids, of shape [B, T, E]; also the
   * baseline of Integrated Gradients from chosen ids (`[PAD]`). Without a
   * tensor inside the model, the input itself as float32.
   */
  async attributedInput(input: FeedTensor): Promise<HostTensor> {
    if (this.#disposed) throw disposedError(this.name);
    if (this.#prefix !== undefined) return this.#prefix.attributedInput(input);
    const resolved = resolveFeed(this.#modelInput, input, `${this.name}: attributedInput: input "${this.#modelInput.name}"`, 0);
    if (!(resolved.data instanceof Float32Array || resolved.data instanceof Float64Array)) {
      throw new Error(`unreachable: input "${this.#modelInput.name}" of integers is attributed at its embeddings or refused`);
    }
    return hostTensor(Float32Array.from(resolved.data), [resolved.batch, ...resolved.exampleShape]);
  }

  checkInputShape(shape: readonly number[]): void {
    if (this.#prefix !== undefined) {
      this.#prefix.check(shape);
      return;
    }
    const declared = this.inputShape;
    const fits = declared.length === shape.length && declared.every((d, axis) => d === null || axis === 0 || d === shape[axis]);
    if (!fits) {
      throw new AttributionError(
        'INVALID_SHAPE',
        `input "${this.#input.name}" of the ONNX model takes shape [${declared.map((d) => d ?? '?').join(', ')}], got ${formatShape(shape)}`,
      );
    }
  }

  async logits(x: HostTensor, request: Pick<GradientRequest, 'examples'> = {}): Promise<HostTensor> {
    const examples = this.#rowExamples(x, request.examples);
    const perRun = this.#fittingCount(x.shape, 'none') || 1;
    const parts: HostTensor[] = [];
    for (const { start, count } of pieces(x.shape[0]!, perRun)) {
      const part = count === x.shape[0] ? x : sliceRows(x, start, count);
      const partExamples = examples.subarray(start, start + count);
      parts.push(
        await this.#run(
          part.shape,
          'none',
          undefined,
          () => ({ ...feedTensors(this.#ort, this.#feeds, partExamples), [this.#input.name]: this.#tensor(part.data, part.shape) }),
          (result) => readOutput(result, LOGITS_OUTPUT),
        ),
      );
    }
    return concatRows(parts);
  }

  /** The example of each row (`request.examples`, or row r is example r), checked against the feeds' batch. */
  #rowExamples(x: HostTensor, examples: Int32Array | undefined): Int32Array {
    this.#prefix?.check(x.shape);
    return rowExamples(this.#feeds, x.shape[0]!, examples, this.name);
  }

  /** The modified backward passes `gradients` runs (`backward/rule-set.ts`): `guided_backprop`, `deconvnet`. */
  get backwardRuleSets(): readonly string[] {
    return BACKWARD_RULE_SET_NAMES;
  }

  /** The input gradient, or with `request.backward` the "gradient" of that modified backward pass. */
  async gradients(x: HostTensor, targets: Int32Array, request: GradientRequest = {}): Promise<HostTensor> {
    checkTargetCount(this.name, targets, x.shape[0]!);
    if (request.backward !== undefined) backwardRuleSet(request.backward);
    const variant: Variant = request.backward === undefined ? {} : { backward: request.backward };
    const examples = this.#rowExamples(x, request.examples);
    const parts = await this.#rowsRun(x, targets, examples, 'gradient', variant, (result) => readOutput(result, GRADIENT_OUTPUT));
    return concatRows(parts);
  }

  /**
   * The activation of the tensor `layer` (default: the last feature map of
   * the input's rank before global pooling or flattening, see
   * `autodiff/layer-tensor.ts`) and the gradient of each row's target logit
   * with respect to it.
   */
  async layerGradients(
    x: HostTensor,
    targets: Int32Array,
    layer: string | undefined,
    request: GradientRequest = {},
  ): Promise<LayerGradients> {
    checkTargetCount(this.name, targets, x.shape[0]!);
    const examples = this.#rowExamples(x, request.examples);
    const parts = await this.#rowsRun(x, targets, examples, 'layer', layer === undefined ? {} : { layer }, (result, built) => ({
      layer: built.layer!,
      activation: readOutput(result, LAYER_ACTIVATION_OUTPUT),
      gradient: readOutput(result, LAYER_GRADIENT_OUTPUT),
    }));
    return {
      layer: parts[0]!.layer,
      activation: concatRows(parts.map((p) => p.activation)),
      gradient: concatRows(parts.map((p) => p.gradient)),
    };
  }

  /** Runs the rows of `x` with their one-hot cotangents, in as many runs as the texture limit needs. */
  async #rowsRun<T>(
    x: HostTensor,
    targets: Int32Array,
    examples: Int32Array,
    result: GradientModelRequest['result'],
    variant: Variant,
    read: (outputs: InferenceSession.OnnxValueMapType, built: { layer?: string }) => T,
  ): Promise<T[]> {
    const perRun = this.#fittingCount(x.shape, result, undefined, variant) || 1;
    const parts: T[] = [];
    for (const { start, count } of pieces(x.shape[0]!, perRun)) {
      const part = count === x.shape[0] ? x : sliceRows(x, start, count);
      const partTargets = targets.subarray(start, start + count);
      const partExamples = examples.subarray(start, start + count);
      parts.push(
        await this.#run(
          part.shape,
          result,
          undefined,
          (logitsShape) => this.#inputs(part, partTargets, partExamples, logitsShape, start),
          read,
          variant,
        ),
      );
    }
    return parts;
  }

  /**
   * The moments of each group, reduced inside the graph; for groups too large
   * for one run under the texture limit, their per-row gradients instead (in
   * as many runs as they need), which core reduces.
   */
  async gradientMoments(
    x: HostTensor,
    targets: Int32Array,
    groupSize: number,
    request: GradientRequest = {},
  ): Promise<GradientMoments | RowGradients> {
    const rows = x.shape[0]!;
    checkTargetCount(this.name, targets, rows);
    checkGroupSize(rows, groupSize);
    const examples = this.#rowExamples(x, request.examples);
    const variant = momentsVariant(targets, groupSize);
    const groupsPerRun = this.#fittingCount(x.shape, 'moments', groupSize, variant);
    if (groupsPerRun === 0 && rows > 0) return { gradients: await this.gradients(x, targets, { examples }) };
    const means: HostTensor[] = [];
    const m2s: HostTensor[] = [];
    for (const { start, count } of pieces(rows / groupSize, groupsPerRun)) {
      const [first, length] = [start * groupSize, count * groupSize];
      const part = length === rows ? x : sliceRows(x, first, length);
      const partTargets = targets.subarray(first, first + length);
      const partExamples = examples.subarray(first, first + length);
      const moments = await this.#run(
        part.shape,
        'moments',
        groupSize,
        (logitsShape) => this.#inputs(part, partTargets, partExamples, logitsShape, first, variant.groupCotangent && groupSize),
        (result) => ({
          mean: readOutput(result, MEAN_OUTPUT),
          m2: readOutput(result, M2_OUTPUT),
        }),
        variant,
      );
      means.push(moments.mean);
      m2s.push(moments.m2);
    }
    return { count: groupSize, mean: concatRows(means), m2: concatRows(m2s) };
  }

  /**
   * True on ONNX Runtime's WebGPU EP where its GPUDevice is exposed: core's
   * noise is then made on that device (`device-noise.ts`), never uploaded.
   */
  get deviceNoise(): boolean {
    return hasDeviceNoise(this.#ort, this.#executionProvider);
  }

  /**
   * `gradientMoments` of the rows `noise` describes for the clean examples
   * `x` `[G, ...S]` (docs/methods.md, "Noise"): per run, a compute pass on
   * ONNX Runtime's WebGPU device writes the run's noisy rows into a GPU
   * buffer that the gradient graph takes as its input, which reduces them to
   * moments; only the clean examples and σ go up, only the moments come back.
   * Where not even one group fits a run, the rows are made on the host and
   * their gradients returned (as `gradientMoments` does).
   */
  async noisyGradientMoments(x: HostTensor, noise: NoiseDescription, targets: Int32Array): Promise<GradientMoments | RowGradients> {
    checkNoiseDescription(this.name, x, noise);
    const groupSize = noise.samples;
    const groups = x.shape[0]!;
    const rows = groups * groupSize;
    const rowShape = [rows, ...noise.exampleShape];
    checkTargetCount(this.name, targets, rows);
    if (!this.deviceNoise) {
      throw new AttributionError('INVALID_OPTION', `${this.name}: noisyGradientMoments needs onnxruntime-web's WebGPU EP and WebGPU`);
    }
    this.#prefix?.check(rowShape);
    const rowExample = Int32Array.from({ length: rows }, (_, r) => noise.firstExample + Math.floor(r / groupSize));
    const examples = rowExamples(this.#feeds, rows, rowExample, this.name);
    const variant = momentsVariant(targets, groupSize);
    const groupsPerRun = this.#fittingCount(rowShape, 'moments', groupSize, variant);
    if (groupsPerRun === 0) return { gradients: await this.gradients(noisyRows(x, noise), targets, { examples }) };
    const size = sizeOf(noise.exampleShape);
    const means: HostTensor[] = [];
    const m2s: HostTensor[] = [];
    for (const { start, count } of pieces(groups, groupsPerRun)) {
      const [first, length] = [start * groupSize, count * groupSize];
      const sigma = noise.sigma.subarray(start, start + count);
      const partNoise: NoiseDescription = { ...noise, sigma, firstExample: noise.firstExample + start };
      const clean = x.data.subarray(start * size, (start + count) * size);
      const moments = await this.#run(
        [length, ...noise.exampleShape],
        'moments',
        groupSize,
        (logitsShape) => ({
          ...this.#otherInputs(
            targets.subarray(first, first + length),
            examples.subarray(first, first + length),
            logitsShape,
            first,
            variant.groupCotangent && groupSize,
          ),
          [this.#input.name]: noisyRowsFeed(clean, partNoise),
        }),
        (result) => ({ mean: readOutput(result, MEAN_OUTPUT), m2: readOutput(result, M2_OUTPUT) }),
        variant,
      );
      means.push(moments.mean);
      m2s.push(moments.m2);
    }
    return { count: groupSize, mean: concatRows(means), m2: concatRows(m2s) };
  }

  /**
   * How many rows (for moments: groups of `groupSize` rows) one run of this
   * call may take so that no value exceeds the budget maxActivationElements
   * (`activation-plan.ts`; one row over it is refused) nor, on WebGL, any
   * tensor of its graph the texture-row limit (`row-splitting.ts`); 0 where
   * not even one group fits. Measured once per shape.
   */
  #fittingCount(shape: readonly number[], result: GradientModelRequest['result'], groupSize?: number, variant: Variant = {}): number {
    const unit = groupSize ?? 1;
    const total = shape[0]! / unit;
    const limit = this.#textureRowLimit;
    if (total === 0) return total;
    if (this.#disposed) throw disposedError(this.name);
    const plan = this.#batchPlan;
    if (plan.kind === 'fixed') {
      // Runs of exactly the model's batch size; moments then come from per-row gradients (core reduces them).
      if (shape[0]! % plan.size !== 0) throw fixedBatchError(this.name, this.#input.name, plan, shape[0]!);
      if (plan.size === 1 && shape[0]! > 1 && !this.#warnedOneRow) {
        this.#warnedOneRow = true;
        this.#onWarning(oneRowWarning(this.name, this.#input.name, plan));
      }
      return groupSize === undefined ? plan.size : 0;
    }
    const key = sessionKey(shape, result, groupSize, variant);
    let count = this.#fittingCounts.get(key);
    if (count === undefined) {
      count = activationFittingCount(this.#model, this.#input.name, this.#outputName, shape, unit, this.#budgets, (rows) =>
        this.#otherShapes([rows, ...shape.slice(1)]),
      );
      if (limit !== undefined && count > 0)
        count = largestFittingCount(count, limit, (n) => {
          const rowShape = [n * unit, ...shape.slice(1)];
          const built = buildGradientModel(this.#model, this.#request(rowShape, result, groupSize, variant));
          return batchTextureRows(
            built.bytes,
            this.#input.name,
            rowShape,
            built.cotangentShape ?? built.logitsShape,
            this.#otherShapes(rowShape),
          );
        });
      this.#fittingCounts.set(key, count);
    }
    return count;
  }

  /**
   * Releases every session this backend created, once the calls already
   * running have finished (a session is never released under a run); calls
   * made from now on are refused.
   */
  async dispose(): Promise<void> {
    this.#disposed = true;
    await Promise.allSettled([...this.#running]);
    await this.#sessions.clear();
    await this.#prefix?.dispose();
  }

  /** The shapes of the graph inputs other than the attributed one for an `x` of shape `shape`: the feeds, and the model input where only its shape is read. */
  #otherShapes(shape: readonly number[]): Map<string, readonly number[]> {
    return new Map([...(this.#prefix?.unfedShapes(shape) ?? []), ...feedShapes(this.#feeds, shape[0]!)]);
  }

  /**
   * One call: the cached session for this shape, its feeds, one run, and the
   * outputs read. Tracked while it runs, so that `dispose` waits for it; an
   * error ONNX Runtime raises while running is wrapped with what was run.
   */
  async #run<T>(
    shape: readonly number[],
    result: GradientModelRequest['result'],
    groupSize: number | undefined,
    feeds: (logitsShape: readonly number[]) => Record<string, Tensor | DeviceFeed>,
    read: (outputs: InferenceSession.OnnxValueMapType, built: { layer?: string }) => T,
    variant: Variant = {},
  ): Promise<T> {
    if (this.#disposed) throw disposedError(this.name);
    const call = this.#withSession(shape, result, groupSize, variant, async ({ session, logitsShape, layer, bindings, deviceInputs }) => {
      // A fed input that this call's graph does not read (off its path) is not one of its inputs.
      const given = feeds(logitsShape);
      const inputs = Object.fromEntries(session.inputNames.map((name) => [name, given[name]!]));
      // Values made on the device go into the input buffers the session keeps (captured or not), one run at a time.
      // Uncaptured, only what the call reads comes back (a gradient call's logits stay where they were computed).
      let outputs: InferenceSession.OnnxValueMapType;
      try {
        if (bindings !== undefined) outputs = await bindings.run(inputs);
        else if (!Object.values(inputs).some(isDeviceFeed))
          outputs = await session.run(inputs as Record<string, Tensor>, READ_OUTPUTS[result]);
        else {
          outputs = await deviceInputs.turns.take(async () => {
            const placed: Record<string, Tensor> = {};
            for (const [name, value] of Object.entries(inputs)) {
              placed[name] = isDeviceFeed(value) ? await deviceInputs.tensor(this.#ort, name, value, this.name) : value;
            }
            return session.run(placed, READ_OUTPUTS[result]);
          });
        }
      } catch (error) {
        throw new AttributionError(
          'MODEL_FAILED',
          `${this.name}: ONNX Runtime failed to run the ${result === 'none' ? 'forward' : result} model for an input of shape ` +
            `${formatShape(shape)}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      if (this.#precision === 'float16') checkFiniteOutputs(outputs as Record<string, Tensor>, this.name);
      return read(outputs, layer === undefined ? {} : { layer });
    });
    this.#running.add(call);
    try {
      return await call;
    } finally {
      this.#running.delete(call);
    }
  }

  /** The feeds, the input and the cotangent (one-hot rows of the targets); `firstRow` numbers the rows in messages. */
  #inputs(
    x: HostTensor,
    targets: Int32Array,
    examples: Int32Array,
    logitsShape: readonly number[],
    firstRow = 0,
    groupSize?: number | false,
  ): Record<string, Tensor> {
    return {
      ...this.#otherInputs(targets, examples, logitsShape, firstRow, groupSize),
      [this.#input.name]: this.#tensor(x.data, x.shape),
    };
  }

  /**
   * The inputs of a run besides the attributed one: the feeds and the
   * cotangent, one-hot rows of the targets, or with `groupSize` (a graph of
   * `groupCotangent`) one row per group, `[G, 1, K]`.
   */
  #otherInputs(
    targets: Int32Array,
    examples: Int32Array,
    logitsShape: readonly number[],
    firstRow: number,
    groupSize?: number | false,
  ): Record<string, Tensor> {
    const [rows, classes] = logitsShape as [number, number];
    const feeds = feedTensors(this.#ort, this.#feeds, examples);
    if (!groupSize) return { ...feeds, [COTANGENT_INPUT]: this.#tensor(oneHotRows(targets, classes, firstRow), logitsShape) };
    const valid = targets.every((t) => Number.isInteger(t) && t >= 0 && t < classes);
    // A target that is no class: the rows' one-hot refuses it, naming its row.
    if (!valid) oneHotRows(targets, classes, firstRow);
    const groupTargets = targets.filter((_, row) => row % groupSize === 0);
    return { ...feeds, [COTANGENT_INPUT]: this.#tensor(oneHotRows(groupTargets, classes), [rows / groupSize, 1, classes]) };
  }

  #tensor(data: Float32Array, shape: readonly number[]): Tensor {
    return new this.#ort.Tensor('float32', data, [...shape]);
  }

  #request(
    shape: readonly number[],
    result: GradientModelRequest['result'],
    groupSize: number | undefined,
    variant: Variant,
  ): GradientModelRequest {
    return {
      ...variant,
      inputName: this.#input.name,
      inputShape: shape,
      outputName: this.#outputName,
      keepSoftmax: this.#keepSoftmax,
      ...(this.#outputPosition === undefined ? {} : { outputPosition: this.#outputPosition }),
      result,
      executionProvider: this.#executionProvider,
      budgets: this.#budgets,
      precision: this.#precision,
      feedShapes: feedShapes(this.#feeds, shape[0]!),
      ...(this.#prefix === undefined ? {} : { unfedShapes: this.#prefix.unfedShapes(shape) }),
      ...(groupSize === undefined ? {} : { groupSize }),
    };
  }

  /** Runs `use` on the session for this shape and call kind, built (and cached, `session-cache.ts`) on first use. */
  #withSession<T>(
    shape: readonly number[],
    result: GradientModelRequest['result'],
    groupSize: number | undefined,
    variant: Variant,
    use: (entry: CachedSession) => Promise<T>,
  ): Promise<T> {
    if (this.#disposed) throw disposedError(this.name);
    const key = sessionKey(shape, result, groupSize, variant);
    return this.#sessions.with(
      key,
      async () => {
        if (this.#precision === 'float16') {
          this.#float16Checked ??= checkShaderF16(this.#ort, this.name);
          await this.#float16Checked;
        }
        const built = buildGradientModel(this.#model, this.#request(shape, result, groupSize, variant));
        const kind = `${result === 'none' ? 'forward' : result}${variant.backward ? ` (${variant.backward})` : ''}`;
        const captured = await this.#capturedSession(built.bytes, kind);
        if (typeof captured !== 'string') return cachedSession(captured.session, built, captured.bindings);
        let session: InferenceSession;
        try {
          session = await this.#ort.InferenceSession.create(built.bytes, this.#sessionOptions);
        } catch (error) {
          // The model passed every check here but ONNX Runtime refuses its graph (e.g. a Conv weight of an integer type).
          throw new AttributionError(
            'MODEL_FAILED',
            `${this.name}: ONNX Runtime refused the ${result === 'none' ? 'forward' : result} model built for an input of shape ${formatShape(shape)}: ` +
              `${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        }
        if (captured !== '') {
          this.#onWarning(
            `${this.name}: ONNX Runtime does not capture the ${kind} graph (${captured}); its calls run without graph capture`,
          );
        }
        return cachedSession(session, built);
      },
      use,
    );
  }

  /**
   * With `graphCapture`, a captured session of the graph `bytes` (its outputs
   * packed into one, `passes/pack-outputs.ts`) and the buffers it is bound
   * to; else why not: '' where capture is off or was refused before for this
   * call kind, or ONNX Runtime's reason, which marks the kind refused (the
   * same nodes fall to the CPU at every shape).
   */
  async #capturedSession(bytes: Uint8Array, kind: string): Promise<{ session: InferenceSession; bindings: CapturedBindings } | string> {
    if (!this.#graphCapture || this.#captureRefused.has(kind)) return '';
    let session: InferenceSession | undefined;
    try {
      const packed = packOutputs(bytes);
      session = await this.#ort.InferenceSession.create(packed.bytes, capturedSessionOptions(this.#sessionOptions));
      return { session, bindings: await CapturedBindings.create(this.#ort, session, packed.outputs, this.name) };
    } catch (error) {
      await session?.release();
      this.#captureRefused.add(kind);
      return error instanceof Error ? error.message : String(error);
    }
  }
}

/** What else selects a built graph besides its shape and result: a modified backward pass, a layer, the cotangent per group. */
type Variant = Pick<GradientModelRequest, 'backward' | 'layer' | 'groupCotangent'>;

/**
 * A moments run takes one cotangent row per group where every row of each
 * group has its group's target (as core's engine calls it), so that what goes
 * up does not grow with the group size; otherwise one row per row.
 */
function momentsVariant(targets: Int32Array, groupSize: number): Variant {
  const uniform = targets.every((target, row) => target === targets[row - (row % groupSize)]);
  return uniform ? { groupCotangent: true } : {};
}

/** The outputs each kind of call reads, the only ones fetched from a run. */
const READ_OUTPUTS: Readonly<Record<GradientModelRequest['result'], readonly string[]>> = {
  none: [LOGITS_OUTPUT],
  gradient: [GRADIENT_OUTPUT],
  moments: [MEAN_OUTPUT, M2_OUTPUT],
  layer: [LAYER_ACTIVATION_OUTPUT, LAYER_GRADIENT_OUTPUT],
};

function sessionKey(
  shape: readonly number[],
  result: GradientModelRequest['result'],
  groupSize: number | undefined,
  variant: Variant,
): string {
  return `${result}|${shape.join('x')}|${groupSize ?? ''}|${variant.backward ?? ''}|${variant.layer ?? ''}|${variant.groupCotangent ? 'g' : ''}`;
}

function readOutput(result: InferenceSession.OnnxValueMapType, name: string): HostTensor {
  const tensor = result[name] as Tensor;
  const data = tensor.data;
  if (!(data instanceof Float32Array)) throw new Error(`unreachable: output ${name} is not float32`);
  // A copy: some runtimes hand out views of buffers they reuse.
  return hostTensor(Float32Array.from(data), tensor.dims);
}
