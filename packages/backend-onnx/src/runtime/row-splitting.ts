import { fromBinary } from '@bufbuild/protobuf';
import { hostTensor, type HostTensor } from '@saliency/core';
import { COTANGENT_INPUT } from '../autodiff/build-gradient-model.js';
import { inferGraph } from '../autodiff/infer-graph.js';
import { UNBOUNDED_BUDGETS } from '../model/budgets.js';
import { defaultOpset } from '../model/onnx-model.js';
import { ModelProtoSchema } from '../proto/onnx_pb.js';

/*
 * Splitting a call's rows into sub-batches small enough for the WebGL EP.
 *
 * onnxruntime-web's WebGL EP keeps each tensor of shape [d₀, …, dₖ] in a
 * texture of d₀·…·dₖ₋₁ rows ("texture rows") and dₖ columns while both fit
 * under the GPU's maximum texture size; past it, it falls back to other
 * layouts, and some of its kernels then compute wrong values with no error:
 * the parity app's VGG-style gradient graph, input [N, 3, 24, 24], is right
 * up to N = 21 and wrong from N = 22, where a [N, 16, 24, 24] activation's
 * N·16·24 rows first exceed SwiftShader's 8192 (onnxruntime-node runs the
 * same graph right at every N). So, on WebGL, a call whose built graph holds
 * a tensor of more texture rows than the limit runs as several calls of
 * fewer rows, and their results are joined on the host.
 *
 * Only values that depend on the batch (on the model input or the logits'
 * cotangent) count: a weight's rows do not shrink with the batch. Their rows
 * grow (about) linearly with the row count R, rows(R) ≈ a·R, so the largest
 * count that fits is found from one measurement, floor(R·limit / rows(R)),
 * and checked by building at that count (`largestFittingCount`). A last
 * dimension above the limit is another layout problem that no split solves.
 */

/**
 * The most texture rows (product of all dimensions but the last; 1 for a
 * scalar or vector) among the values of a built model that depend on its
 * inputs, the model input of shape `inputShape` and the cotangent of shape
 * `cotangentShape`. Static shapes are inferred again on the built graph, whose
 * emitted values carry no types of their own.
 */
export function batchTextureRows(
  bytes: Uint8Array,
  inputName: string,
  inputShape: readonly number[],
  cotangentShape: readonly number[],
  feedShapes: ReadonlyMap<string, readonly number[]> = new Map(),
): number {
  const model = fromBinary(ModelProtoSchema, bytes);
  const graph = model.graph!;
  const facts = inferGraph(
    graph,
    defaultOpset(model),
    new Map([...feedShapes, [inputName, inputShape], [COTANGENT_INPUT, cotangentShape]]),
    UNBOUNDED_BUDGETS,
  );
  const dependent = new Set(graph.input.map((input) => input.name));
  let most = 0;
  const count = (name: string) => {
    const shape = facts.types.get(name)?.shape;
    if (shape !== undefined) most = Math.max(most, textureRows(shape));
  };
  dependent.forEach(count);
  for (const node of graph.node) {
    if (!node.input.some((name) => dependent.has(name))) continue;
    for (const name of node.output) {
      if (name === '' || facts.constants.has(name)) continue;
      dependent.add(name);
      count(name);
    }
  }
  return most;
}

/** d₀·…·dₖ₋₁ for shape [d₀, …, dₖ]; 1 for a scalar or a vector. */
export function textureRows(shape: readonly number[]): number {
  return shape.slice(0, -1).reduce((a, b) => a * b, 1);
}

/**
 * The largest count c in [1, total] (of rows, or of groups) whose graph's
 * texture rows `rowsAt(c)` are at most `limit`, or 0 when even one does not
 * fit. Starts at `total`; while over the limit, tries floor(c·limit / rowsAt(c))
 * (at most c − 1), which is the answer at once when the rows are proportional
 * to the count and is otherwise refined by the next measurement.
 */
export function largestFittingCount(total: number, limit: number, rowsAt: (count: number) => number): number {
  let count = total;
  for (;;) {
    const rows = rowsAt(count);
    if (rows <= limit) return count;
    if (count === 1) return 0;
    count = Math.max(1, Math.min(count - 1, Math.floor((count * limit) / rows)));
  }
}

/** Consecutive pieces [start, start + count) of at most `size` (≥ 1) each, covering [0, total); one empty piece for total 0. */
export function pieces(total: number, size: number): Array<{ start: number; count: number }> {
  if (total === 0) return [{ start: 0, count: 0 }];
  const result: Array<{ start: number; count: number }> = [];
  for (let start = 0; start < total; start += size) result.push({ start, count: Math.min(size, total - start) });
  return result;
}

/** Rows [start, start + count) of a tensor whose first axis is the rows (a copy). */
export function sliceRows(x: HostTensor, start: number, count: number): HostTensor {
  const [, ...rest] = x.shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return hostTensor(x.data.slice(start * size, (start + count) * size), [count, ...rest]);
}

/** Tensors of the same trailing shape joined along the first axis. */
export function concatRows(parts: readonly HostTensor[]): HostTensor {
  if (parts.length === 1) return parts[0]!;
  const [, ...rest] = parts[0]!.shape;
  const data = new Float32Array(parts.reduce((n, part) => n + part.data.length, 0));
  let offset = 0;
  for (const part of parts) {
    data.set(part.data, offset);
    offset += part.data.length;
  }
  return hostTensor(data, [parts.reduce((n, part) => n + part.shape[0]!, 0), ...rest]);
}
