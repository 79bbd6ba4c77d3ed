import { AttributionError } from '@saliency/core';
import { Attributes, describeNode } from '../model/attributes.js';
import { constTensor, writeTensorProto, type ConstTensor } from '../model/const-tensor.js';
import { DataType } from '../model/data-type.js';
import { declaredShape } from '../model/graph-io.js';
import type { ModelProto, ValueInfoProto } from '../proto/onnx_pb.js';

/*
 * Models exported with their batch fixed (PyTorch without dynamic axes, and
 * `x.view(1, -1)` before a Linear) declare their input as [1, ...] and bake the
 * 1 into the shapes of their Reshapes: with more rows, the rows are folded
 * into the features and the next Gemm or MatMul no longer fits. Where the
 * batch is the leading axis of the Reshape's input, the constant's leading
 * batch size is rewritten to 0 (Reshape: "copy that dimension of the input"),
 * which is the model's own function for any batch. Shape arithmetic
 * (Shape → Gather → Concat) needs no rewrite: it is folded from the shape in
 * use. Where the graph fixes the batch some other way, the model runs at its
 * batch size: one row per run for batch 1 (said once, in a warning: slower,
 * the same maps), and a call of another number of rows for a larger batch is
 * refused, naming the batch the model fixes.
 */

/** How rows of the input may be run: any number per run, or exactly `size` per run. */
export type BatchPlan =
  | { readonly kind: 'free' }
  | { readonly kind: 'rewritten'; readonly nodes: readonly string[] }
  | { readonly kind: 'fixed'; readonly size: number; readonly reason: string };

/** What static shape inference of the model at one input shape gave: its value shapes and folded constants. */
export interface ShapeFacts {
  readonly types: ReadonlyMap<string, { readonly shape: readonly number[] }>;
  readonly constants: ReadonlyMap<string, ConstTensor>;
}

/**
 * Shape inference of the (current) model at an input shape: its facts when
 * the explained output has as many rows as the input, else why not. Given by
 * the caller: inference is a layer above the passes.
 */
export type BatchInference = (shape: readonly number[]) => { ok: true; facts: ShapeFacts } | { ok: false; reason: string };

/**
 * The batch plan of `model` for its input `input`; a model whose input
 * declares a fixed batch size and every other dimension, and whose graph does
 * not run at another batch size (by `infer`), is rewritten in place where its
 * Reshape constants allow.
 */
export function planBatch(model: ModelProto, input: ValueInfoProto, infer: BatchInference): BatchPlan {
  const declared = declaredShape(input);
  const batch = declared[0];
  if (declared.length === 0 || batch === null || batch === undefined || batch < 1 || declared.some((d) => d === null))
    return { kind: 'free' };
  const shape = declared as number[];
  const atDeclared = infer(shape);
  // A graph that does not even run at its declared shape (or needs more than this input) is left to the ordinary errors.
  if (!atDeclared.ok) return { kind: 'free' };
  const probe = [batch + 1, ...shape.slice(1)];
  if (infer(probe).ok) return { kind: 'free' };

  const graph = model.graph!;
  const originals = graph.node.map((node) => [...node.input]);
  const initializerCount = graph.initializer.length;
  const rewritten = rewriteReshapes(model, atDeclared.facts, batch);
  const after = infer(probe);
  if (rewritten.length > 0 && after.ok) return { kind: 'rewritten', nodes: rewritten };
  // Undo: the model stays as it was exported.
  graph.node.forEach((node, i) => {
    node.input = originals[i]!;
  });
  graph.initializer.splice(initializerCount);
  return { kind: 'fixed', size: batch, reason: after.ok ? 'unreachable' : after.reason };
}

/**
 * Every Reshape whose shape is a constant (folded at the declared shape)
 * beginning with the batch size, and whose input's leading axis is the batch,
 * reads a new constant with that entry 0. Returns the rewritten nodes' descriptions.
 */
function rewriteReshapes(model: ModelProto, facts: ShapeFacts, batch: number): string[] {
  const graph = model.graph!;
  const rewritten: string[] = [];
  graph.node.forEach((node, index) => {
    if (node.opType !== 'Reshape' || node.input.length < 2 || new Attributes(node).int('allowzero', 0) !== 0) return;
    const target = facts.constants.get(node.input[1]!);
    const data = facts.types.get(node.input[0]!);
    if (target === undefined || data === undefined || facts.constants.has(node.input[0]!)) return;
    if (target.values[0] !== batch || data.shape[0] !== batch) return;
    const values = Float64Array.from(target.values);
    values[0] = 0;
    const name = `${node.input[1]}/batch_free_${index}`;
    graph.initializer.push(writeTensorProto(name, constTensor(DataType.INT64, target.dims, values)));
    node.input[1] = name;
    rewritten.push(describeNode(node, index));
  });
  return rewritten;
}

/** The refusal of a call whose rows the model cannot take: its batch is fixed at `size`. */
export function fixedBatchError(who: string, inputName: string, plan: { size: number; reason: string }, rows: number): AttributionError {
  return new AttributionError(
    'INVALID_SHAPE',
    `${who}: the model fixes its batch size at ${plan.size} (input "${inputName}"; at another batch size: ${plan.reason}), ` +
      `so it runs ${plan.size} rows at a time; this call has ${rows} rows, not a multiple of ${plan.size}. ` +
      `Export the model with a dynamic batch axis, or give a multiple of ${plan.size} rows (batchSize and numSamples)`,
  );
}

/** The warning said once when a model whose batch is fixed at 1 runs a call one row at a time. */
export function oneRowWarning(who: string, inputName: string, plan: { reason: string }): string {
  return (
    `${who}: the model fixes its batch size at 1 (input "${inputName}"; at another batch size: ${plan.reason}); ` +
    'each row runs as its own ONNX Runtime call, which gives the same maps more slowly. Export the model with a dynamic batch axis to run rows together'
  );
}
