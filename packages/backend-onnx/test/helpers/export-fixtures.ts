import { readFileSync } from 'node:fs';
import { fillStandardNormal, sizeOf } from '@saliency/core';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { type BuiltModel, buildGradientModel, type GradientModelRequest } from '../../src/autodiff/build-gradient-model.js';
import type { ExportedModel } from '../../src/index.js';
import { declaredShape, graphInputs } from '../../src/model/graph-io.js';
import type { ModelProto } from '../../src/proto/onnx_pb.js';

/** What the tests use of onnxruntime-node and onnxruntime-web: sessions, and float32 and int64 tensors. */
export interface Runtime {
  readonly InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  readonly Tensor: new (type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: readonly number[]) => Tensor;
}

/** The parity fixtures (apps/parity/fixtures/models), with a free batch axis. */
export const PARITY_MODELS = new URL('../../../../apps/parity/fixtures/models/', import.meta.url);

export function parityModel(name: string): Uint8Array {
  return readFileSync(new URL(`${name}.onnx`, PARITY_MODELS));
}

/** A fixture model's (first) graph input: its name, and its declared shape with each free dimension (the batch) as 2. */
export function fixtureInput(model: ModelProto): { name: string; shape: number[] } {
  const input = graphInputs(model)[0]!;
  return { name: input.name, shape: declaredShape(input).map((d) => d ?? 2) };
}

/**
 * The graph of a fixture model's first input and first output (logits, no
 * softmax) built as `request` asks, at `fixtureInput`'s shape.
 */
export function buildFixtureGraph(
  model: ModelProto,
  request: Omit<GradientModelRequest, 'inputName' | 'inputShape' | 'outputName' | 'keepSoftmax'>,
): { built: BuiltModel; input: { name: string; shape: number[] } } {
  const input = fixtureInput(model);
  const built = buildGradientModel(model, {
    inputName: input.name,
    inputShape: input.shape,
    outputName: model.graph!.output[0]!.name,
    keepSoftmax: false,
    ...request,
  });
  return { built, input };
}

/** A deterministic input of this shape with values in [−1, 1]. */
export function testInput(shape: readonly number[]): Float32Array {
  return Float32Array.from({ length: sizeOf(shape) }, (_, i) => Math.sin(0.37 * i + 0.1) * Math.cos(0.011 * i));
}

/**
 * Core's seeded noise ε = σ · z(seed, b, i, ·) materialised as a `[B, N, ...S]`
 * tensor, as packages/core/src/noise/noise-source.ts writes it (z rounded to
 * float32, then the product rounded).
 */
export function seededNoiseTensor(shape: readonly number[], numSamples: number, seed: number, sigma: number): Float32Array {
  const [batch, ...example] = shape as [number, ...number[]];
  const size = sizeOf(example);
  const noise = new Float32Array(batch * numSamples * size);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < numSamples; i++) {
      const out = noise.subarray((b * numSamples + i) * size, (b * numSamples + i + 1) * size);
      fillStandardNormal(out, seed, b, i);
      for (let e = 0; e < size; e++) out[e] = out[e]! * sigma;
    }
  }
  return noise;
}

/** Runs an exported model once in a fresh session and returns its outputs by name, the session released. */
export async function runExported(
  ort: Runtime,
  exported: ExportedModel,
  values: Record<string, Float32Array | BigInt64Array>,
  sessionOptions: InferenceSession.SessionOptions = {},
): Promise<Record<string, Tensor>> {
  const session = await ort.InferenceSession.create(exported.bytes, sessionOptions);
  try {
    const feeds: Record<string, Tensor> = {};
    for (const input of exported.inputs) {
      feeds[input.name] = new ort.Tensor(input.type, values[input.name]!, [...input.shape]);
    }
    return (await session.run(feeds)) as Record<string, Tensor>;
  } finally {
    await session.release();
  }
}
