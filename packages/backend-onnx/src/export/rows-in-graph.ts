import { sizeOf, type HostTensor, type ResolvedOptions, type RowKind } from '@saliency/core';
import type { GraphEmitter } from '../autodiff/graph-emitter.js';
import { DataType } from '../model/data-type.js';
import { valueInfo } from '../model/value-info.js';
import type { ValueInfoProto } from '../proto/onnx_pb.js';
import { NOISE_INPUT } from './export-names.js';

/** Where the noise of noisy-sample rows comes from: a graph input, or ONNX's RandomNormal inside the graph. */
export type NoiseSource = 'input' | 'in-graph';

/** The model rows of a batch as one graph value `[B·n, ...S]`, n per example, example by example. */
export interface RowsInGraph {
  readonly rows: string;
  readonly perExample: number;
  /** Inputs the rows read besides the model's input (the noise). */
  readonly inputs: readonly ValueInfoProto[];
  /** x − x' per example, for path-point rows. */
  readonly span?: string;
}

/**
 * The rows of a rule's `RowKind` (docs/methods.md, "Methods") for the input
 * `x` of static shape `[B, ...S]`, as the engine writes them
 * (packages/core/src/engine/model-rows.ts): the input itself; x + ε with ε
 * the noise input `[B, N, ...S]` (used as it is, like the `noise` option) or
 * σ times RandomNormal; or the path points x' + (k/m)(x − x'), k = 1..m.
 */
export function rowsInGraph(
  kind: RowKind,
  emitter: GraphEmitter,
  x: string,
  shape: readonly number[],
  options: ResolvedOptions,
  noiseSource: NoiseSource,
): RowsInGraph {
  const [batch, ...example] = shape as [number, ...number[]];
  const ones = example.map(() => 1);
  if (kind === 'input') return { rows: x, perExample: 1, inputs: [] };
  const perExampleShape = (n: number) => [batch, n, ...example];
  const flatRows = (value: string, n: number) => emitter.reshape(value, [batch * n, ...example]);
  const xPerExample = emitter.reshape(x, perExampleShape(1));
  if (kind === 'noisy-samples') {
    const n = options.numSamples;
    const noiseShape = perExampleShape(n);
    const inputs = noiseSource === 'input' ? [valueInfo(NOISE_INPUT, noiseShape)] : [];
    const noise = noiseSource === 'input' ? NOISE_INPUT : randomNoise(emitter, xPerExample, noiseShape, options);
    return { rows: flatRows(emitter.node('Add', [xPerExample, noise], 1)[0]!, n), perExample: n, inputs };
  }
  const m = options.steps;
  const baseline = baselineLiteral(emitter, options.baseline, shape);
  const span = emitter.node('Sub', [x, baseline.value], 1)[0]!;
  // α_k = k/m, rounded to float32 once (the engine computes the point in float64: rows differ in the last bit).
  const alphas = emitter.literal(
    Array.from({ length: m }, (_, k) => (k + 1) / m),
    [1, m, ...ones],
  );
  const steps = emitter.node('Mul', [emitter.reshape(span, perExampleShape(1)), alphas], 1)[0]!;
  const start = baseline.perExample ? emitter.reshape(baseline.value, [baseline.batch, 1, ...example]) : baseline.value;
  return { rows: flatRows(emitter.node('Add', [start, steps], 1)[0]!, m), perExample: m, inputs: [], span };
}

/**
 * ε = σ · z, z from ONNX's RandomNormal with the seed as its `seed`
 * attribute: σ = noiseScale, or noiseLevel · (max x_b − min x_b) per example
 * computed in the graph. RandomNormal rather than RandomNormalLike: the
 * shape is static, so no tensor is needed to copy it from. z has scale 1 and σ multiplies it afterwards, since
 * onnxruntime-node aborts the process on a RandomNormal of scale 0. ONNX
 * Runtime's generator is not core's Philox, so these maps are not the
 * library's for the same seed.
 */
function randomNoise(emitter: GraphEmitter, xPerExample: string, noiseShape: readonly number[], options: ResolvedOptions): string {
  const { sigma } = options;
  const attributes = {
    dtype: { int: DataType.FLOAT },
    shape: { ints: noiseShape },
    seed: { float: options.seed },
    mean: { float: 0 },
    scale: { float: 1 },
  };
  const z = emitter.node('RandomNormal', [], 1, attributes)[0]!;
  let sigmas = emitter.literal([sigma.value], [1]);
  if (sigma.kind === 'level') {
    const exampleAxes = noiseShape.slice(2).map((_, i) => i + 2);
    const xShape = [noiseShape[0]!, 1, ...noiseShape.slice(2)];
    const hi = emitter.reduce('ReduceMax', xPerExample, xShape, exampleAxes, true);
    const lo = emitter.reduce('ReduceMin', xPerExample, xShape, exampleAxes, true);
    sigmas = emitter.node('Mul', [emitter.node('Sub', [hi, lo], 1)[0]!, sigmas], 1)[0]!;
  }
  return emitter.node('Mul', [z, sigmas], 1)[0]!;
}

/** The baseline as a constant: one number, one example `[...S]` or the whole batch `[B, ...S]` (per example). */
function baselineLiteral(emitter: GraphEmitter, baseline: number | HostTensor, shape: readonly number[]) {
  if (typeof baseline === 'number') return { value: emitter.literal([baseline], [1]), perExample: false, batch: 1 };
  const example = shape.slice(1);
  const whole = baseline.data.length === sizeOf(shape);
  const dims = whole ? [...shape] : example;
  return { value: emitter.literal(baseline.data, dims), perExample: whole, batch: shape[0]! };
}
