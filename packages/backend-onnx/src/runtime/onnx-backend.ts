import { AttributionError, formatShape, hostTensor, type GradientBackend, type GradientMoments, type HostTensor } from '@saliency/core';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import {
  buildGradientModel,
  COTANGENT_INPUT,
  GRADIENT_OUTPUT,
  LOGITS_OUTPUT,
  M2_OUTPUT,
  MEAN_OUTPUT,
  type GradientModelRequest,
} from '../autodiff/build-gradient-model.js';
import { executionTargetOf, type ExecutionTarget } from '../autodiff/execution-target.js';
import { readOnnxModel } from '../model/onnx-model.js';
import type { ModelProto, ValueInfoProto } from '../proto/onnx_pb.js';
import type { OnnxRuntimeModule } from './onnx-runtime-module.js';

export interface OnnxBackendOptions {
  /** Which graph input is explained, when the model has several. */
  readonly inputName?: string;
  /** Which graph output holds the logits, when the model has several. */
  readonly outputName?: string;
  /**
   * `'strip'` (default): a final Softmax or LogSoftmax is left out, so that
   * gradients are of the logits; `'keep'`: the output is differentiated as it is.
   */
  readonly softmax?: 'strip' | 'keep';
  /**
   * Passed to every `InferenceSession.create`, e.g. `{ executionProviders: ['webgpu'] }`.
   * The first provider also decides which op forms the gradient graph uses
   * (`'webgl'`, `'webgpu'`, or anything else: every op).
   */
  readonly sessionOptions?: InferenceSession.SessionOptions;
  /** The bytes of external data files, by the file name the model gives. */
  readonly externalData?: ReadonlyMap<string, Uint8Array>;
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
  readonly #input: ValueInfoProto;
  readonly #outputName: string;
  readonly #keepSoftmax: boolean;
  readonly #sessionOptions: InferenceSession.SessionOptions | undefined;
  readonly #target: ExecutionTarget;
  readonly #sessions = new Map<string, Promise<{ session: InferenceSession; logitsShape: readonly number[] }>>();
  /** Calls in progress, which `dispose` waits for before releasing their sessions. */
  readonly #running = new Set<Promise<unknown>>();
  #disposed = false;

  constructor(ort: OnnxRuntimeModule, bytes: Uint8Array, options: OnnxBackendOptions = {}) {
    if (ort === null || typeof ort !== 'object' || typeof ort.InferenceSession?.create !== 'function' || typeof ort.Tensor !== 'function') {
      throw new AttributionError(
        'INVALID_OPTION',
        "createOnnxBackend: the first argument must be an ONNX Runtime module (import * as ort from 'onnxruntime-web' or 'onnxruntime-node')",
      );
    }
    if (options.softmax !== undefined && options.softmax !== 'strip' && options.softmax !== 'keep') {
      throw new AttributionError('INVALID_OPTION', `createOnnxBackend: option softmax must be 'strip' or 'keep', got ${JSON.stringify(options.softmax)}`);
    }
    this.#ort = ort;
    this.#model = readOnnxModel(bytes, options.externalData);
    const graph = this.#model.graph!;
    const initializers = new Set(graph.initializer.map((t) => t.name));
    const inputs = graph.input.filter((input) => !initializers.has(input.name));
    this.#input = choose(inputs, options.inputName, 'input', 'inputName');
    this.#outputName = choose(graph.output, options.outputName, 'output', 'outputName').name;
    this.#keepSoftmax = options.softmax === 'keep';
    this.#sessionOptions = options.sessionOptions;
    this.#target = executionTargetOf(options.sessionOptions?.executionProviders);
  }

  get name(): string {
    const providers = this.#sessionOptions?.executionProviders ?? ['default'];
    const first = providers[0];
    return `onnx-${typeof first === 'string' ? first : (first?.name ?? 'default')}`;
  }

  /** The input's declared shape; null where the model leaves a dimension free. */
  get inputShape(): Array<number | null> {
    const type = this.#input.type?.value;
    if (type?.case !== 'tensorType') return [];
    return (type.value.shape?.dim ?? []).map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : null));
  }

  checkInputShape(shape: readonly number[]): void {
    const declared = this.inputShape;
    const fits = declared.length === shape.length && declared.every((d, axis) => d === null || axis === 0 || d === shape[axis]);
    if (!fits) {
      throw new AttributionError(
        'INVALID_SHAPE',
        `input "${this.#input.name}" of the ONNX model takes shape [${declared.map((d) => d ?? '?').join(', ')}], got ${formatShape(shape)}`,
      );
    }
  }

  async logits(x: HostTensor): Promise<HostTensor> {
    return this.#run(x.shape, 'none', undefined, () => ({ [this.#input.name]: this.#tensor(x.data, x.shape) }), (result) =>
      readOutput(result, LOGITS_OUTPUT),
    );
  }

  async gradients(x: HostTensor, targets: Int32Array): Promise<HostTensor> {
    return this.#run(x.shape, 'gradient', undefined, (logitsShape) => this.#feeds(x, targets, logitsShape), (result) =>
      readOutput(result, GRADIENT_OUTPUT),
    );
  }

  async gradientMoments(x: HostTensor, targets: Int32Array, groupSize: number): Promise<GradientMoments> {
    const rows = x.shape[0]!;
    if (!Number.isInteger(groupSize) || groupSize < 1 || rows % groupSize !== 0) {
      throw new AttributionError('INVALID_OPTION', `gradientMoments: groupSize must divide the ${rows} rows, got ${groupSize}`);
    }
    return this.#run(x.shape, 'moments', groupSize, (logitsShape) => this.#feeds(x, targets, logitsShape), (result) => ({
      count: groupSize,
      mean: readOutput(result, MEAN_OUTPUT),
      m2: readOutput(result, M2_OUTPUT),
    }));
  }

  /**
   * Releases every session this backend created, once the calls already
   * running have finished (a session is never released under a run); calls
   * made from now on are refused.
   */
  async dispose(): Promise<void> {
    this.#disposed = true;
    await Promise.allSettled([...this.#running]);
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(sessions.map(async (entry) => (await entry.catch(() => undefined))?.session.release()));
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
    feeds: (logitsShape: readonly number[]) => Record<string, Tensor>,
    read: (outputs: InferenceSession.OnnxValueMapType) => T,
  ): Promise<T> {
    if (this.#disposed) throw this.#disposedError();
    const call = (async () => {
      const { session, logitsShape } = await this.#session(shape, result, groupSize);
      const inputs = feeds(logitsShape);
      let outputs: InferenceSession.OnnxValueMapType;
      try {
        outputs = await session.run(inputs);
      } catch (error) {
        throw new AttributionError(
          'MODEL_FAILED',
          `${this.name}: ONNX Runtime failed to run the ${result === 'none' ? 'forward' : result} model for an input of shape ` +
            `${formatShape(shape)}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      return read(outputs);
    })();
    this.#running.add(call);
    try {
      return await call;
    } finally {
      this.#running.delete(call);
    }
  }

  #disposedError(): AttributionError {
    return new AttributionError('DISPOSED', `${this.name}: the backend was disposed`);
  }

  #feeds(x: HostTensor, targets: Int32Array, logitsShape: readonly number[]): Record<string, Tensor> {
    const [rows, classes] = logitsShape as [number, number];
    const cotangent = new Float32Array(rows * classes);
    targets.forEach((target, row) => {
      if (!Number.isInteger(target) || target < 0 || target >= classes) {
        throw new AttributionError('INVALID_TARGET', `target ${target} of row ${row} is not a class of the model's ${classes} logits (0 to ${classes - 1})`);
      }
      cotangent[row * classes + target] = 1;
    });
    return {
      [this.#input.name]: this.#tensor(x.data, x.shape),
      [COTANGENT_INPUT]: this.#tensor(cotangent, logitsShape),
    };
  }

  #tensor(data: Float32Array, shape: readonly number[]): Tensor {
    return new this.#ort.Tensor('float32', data, [...shape]);
  }

  #session(shape: readonly number[], result: GradientModelRequest['result'], groupSize?: number) {
    if (this.#disposed) throw this.#disposedError();
    const key = `${result}|${shape.join('x')}|${groupSize ?? ''}`;
    let entry = this.#sessions.get(key);
    if (entry === undefined) {
      entry = (async () => {
        const built = buildGradientModel(this.#model, {
          inputName: this.#input.name,
          inputShape: shape,
          outputName: this.#outputName,
          keepSoftmax: this.#keepSoftmax,
          result,
          target: this.#target,
          ...(groupSize === undefined ? {} : { groupSize }),
        });
        const session = await this.#ort.InferenceSession.create(built.bytes, this.#sessionOptions);
        return { session, logitsShape: built.logitsShape };
      })();
      this.#sessions.set(key, entry);
      entry.catch(() => this.#sessions.delete(key));
    }
    return entry;
  }
}

function choose<T extends { name: string }>(items: readonly T[], wanted: string | undefined, what: string, option: string): T {
  const names = items.map((item) => `"${item.name}"`).join(', ');
  if (wanted !== undefined) {
    const found = items.find((item) => item.name === wanted);
    if (found === undefined) throw new AttributionError('UNSUPPORTED_MODEL', `the model has no ${what} "${wanted}"; its ${what}s are ${names}`);
    return found;
  }
  if (items.length !== 1) {
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `the model has ${items.length} ${what}s (${names || 'none'}); choose one with the ${option} option`,
    );
  }
  return items[0]!;
}

function readOutput(result: InferenceSession.OnnxValueMapType, name: string): HostTensor {
  const tensor = result[name] as Tensor;
  const data = tensor.data;
  if (!(data instanceof Float32Array)) throw new Error(`unreachable: output ${name} is not float32`);
  // A copy: some runtimes hand out views of buffers they reuse.
  return hostTensor(Float32Array.from(data), tensor.dims);
}
