import { AttributionError, formatShape, hostTensor, type FeedTensor, type HostTensor } from '@saliency/core';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { toBinary } from '@bufbuild/protobuf';
import type { AttributedTensor } from '../autodiff/attributed-tensor.js';
import { ancestors } from '../autodiff/infer-graph.js';
import { declaredShape } from '../model/graph-io.js';
import { prefixTo } from '../passes/cut-at-tensor.js';
import { ModelProtoSchema, type ModelProto, type ValueInfoProto } from '../proto/onnx_pb.js';
import { resolveFeed, rowExamples, type ResolvedFeed } from '../model/feeds.js';
import { feedTensors } from './feeds.js';
import type { OnnxRuntimeModule } from './onnx-runtime-module.js';

/**
 * The prefix g of a model attributed at a tensor a = g(u) inside it
 * (docs/methods.md, "Attribution at a tensor"): computes `a` for a model
 * input `u` (`attributedInput`), with a session of the model cut at `a`
 * (`passes/cut-at-tensor.ts`) that ONNX Runtime runs as it is; and what the
 * gradient graphs of the remainder need of `u`: its shape, where their shape
 * arithmetic reads it, learnt from `attributedInput` per shape of `a`.
 */
export class AttributedInput {
  readonly #ort: OnnxRuntimeModule;
  readonly #model: ModelProto;
  readonly #tensor: AttributedTensor;
  readonly #input: ValueInfoProto;
  readonly #feeds: readonly ResolvedFeed[];
  readonly #sessionOptions: InferenceSession.SessionOptions;
  readonly #who: () => string;
  /** Whether the remainder reads the model input (its shape, e.g. for position ids). */
  readonly #remainderReadsInput: boolean;
  /** Per example shape of `a`, the example shape of the `u` it was computed from. */
  readonly #inputShapes = new Map<string, readonly number[]>();
  #session: Promise<InferenceSession> | undefined;

  constructor(
    ort: OnnxRuntimeModule,
    model: ModelProto,
    remainder: ModelProto,
    outputName: string,
    tensor: AttributedTensor,
    input: ValueInfoProto,
    feeds: readonly ResolvedFeed[],
    sessionOptions: InferenceSession.SessionOptions,
    who: () => string,
  ) {
    this.#ort = ort;
    this.#model = model;
    this.#tensor = tensor;
    this.#input = input;
    this.#feeds = feeds;
    this.#sessionOptions = sessionOptions;
    this.#who = who;
    this.#remainderReadsInput = ancestors(remainder.graph!, [outputName]).inputs.has(input.name);
  }

  /** The tensor attributed at. */
  get tensor(): AttributedTensor {
    return this.#tensor;
  }

  /** `a` for the model input `u` (and the feeds, row b of each for example b of `u`). */
  async attributedInput(u: FeedTensor): Promise<HostTensor> {
    const who = `${this.#who()}: attributedInput`;
    const resolved = resolveFeed(this.#input, u, `${who}: input "${this.#input.name}"`, 0);
    const examples = rowExamples(this.#feeds, resolved.batch, undefined, who);
    const shape = [resolved.batch, ...resolved.exampleShape];
    const session = await this.#prefixSession();
    const given: Record<string, Tensor> = {
      ...feedTensors(this.#ort, this.#feeds, examples),
      [this.#input.name]: new this.#ort.Tensor(resolved.type, resolved.data, shape),
    };
    let outputs: InferenceSession.OnnxValueMapType;
    try {
      outputs = await session.run(Object.fromEntries(session.inputNames.map((name) => [name, given[name]!])));
    } catch (error) {
      throw new AttributionError(
        'MODEL_FAILED',
        `${who}: ONNX Runtime failed to compute tensor "${this.#tensor.name}" for input "${this.#input.name}" of shape ${formatShape(shape)}: ` +
          `${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    // ONNX Runtime runs the prefix as it is (any op it has, rule or not); its output's type is checked as it comes.
    const out = outputs[this.#tensor.name] as Tensor;
    if (out.type !== 'float32' && out.type !== 'float64') {
      out.dispose?.();
      throw new AttributionError(
        'UNSUPPORTED_MODEL',
        `${who}: tensor "${this.#tensor.name}" (output of ${this.#tensor.producer}) is ${out.type} for input "${this.#input.name}", not a float: ` +
          `attribution at a tensor needs a float computed from the input`,
      );
    }
    const value = hostTensor(Float32Array.from(out.data as Float32Array | Float64Array), out.dims);
    out.dispose?.();
    this.#inputShapes.set(value.shape.slice(1).join('x'), resolved.exampleShape);
    return value;
  }

  /**
   * Refuses an `x` that is no value of the tensor (the model input itself,
   * say, token ids passed where their embeddings belong), naming what to call.
   */
  check(shape: readonly number[]): void {
    const { rank, name, why } = this.#tensor;
    if (rank === undefined || shape.length === rank) return;
    const what =
      why === 'embeddings'
        ? `the embeddings of the ids of input "${this.#input.name}"`
        : `a tensor computed from input "${this.#input.name}"`;
    throw new AttributionError(
      'INVALID_INPUT',
      `${this.#who()}: x of shape ${formatShape(shape)} is no value of tensor "${name}" (rank ${rank}), at which this backend attributes: ` +
        `it is ${what}. Pass backend.attributedInput(${this.#input.name}) as x`,
    );
  }

  /** The model input's shape for an `x` of shape `shape`, where the remainder's gradient graphs read it; else none. */
  unfedShapes(shape: readonly number[]): Map<string, readonly number[]> {
    if (!this.#remainderReadsInput) return new Map();
    const declared = declaredShape(this.#input).slice(1);
    const example = declared.every((d) => d !== null) ? (declared as number[]) : this.#inputShapes.get(shape.slice(1).join('x'));
    if (example === undefined) {
      throw new AttributionError(
        'INVALID_INPUT',
        `${this.#who()}: the model after tensor "${this.#tensor.name}" reads the shape of input "${this.#input.name}", ` +
          `which is not known for x of shape ${formatShape(shape)}: make x with backend.attributedInput(${this.#input.name})`,
      );
    }
    return new Map([[this.#input.name, [shape[0]!, ...example]]]);
  }

  async dispose(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    if (session !== undefined) await (await session.catch(() => undefined))?.release();
  }

  #prefixSession(): Promise<InferenceSession> {
    if (this.#session === undefined) {
      const graph = this.#model.graph!;
      const prefix = prefixTo(this.#model, this.#tensor.name, ancestors(graph, [this.#tensor.name]));
      this.#session = this.#ort.InferenceSession.create(toBinary(ModelProtoSchema, prefix), this.#sessionOptions).catch(
        (error: unknown) => {
          this.#session = undefined;
          throw new AttributionError(
            'MODEL_FAILED',
            `${this.#who()}: ONNX Runtime refused the model cut at tensor "${this.#tensor.name}": ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        },
      );
    }
    return this.#session;
  }
}
