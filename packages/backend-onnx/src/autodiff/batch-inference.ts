import { AttributionError } from '@saliency/core';
import type { GraphFacts } from './graph-facts.js';
import { inferGraph } from './infer-graph.js';
import type { ModelBudgets } from '../model/budgets.js';
import { defaultOpset } from '../model/onnx-model.js';
import type { BatchInference } from '../passes/fixed-batch.js';
import type { ModelProto } from '../proto/onnx_pb.js';

/**
 * The shape inference `planBatch` (passes/fixed-batch.ts) probes batch sizes
 * with: static inference of the nodes the explained output needs, which must
 * keep the input's rows; a coded refusal on the way is the reason it does not.
 */
export function batchInference(model: ModelProto, inputName: string, outputName: string, budgets: ModelBudgets): BatchInference {
  return (shape) => {
    let facts: GraphFacts;
    try {
      facts = inferGraph(model.graph!, defaultOpset(model), new Map([[inputName, shape]]), budgets, [outputName]);
    } catch (error) {
      if (error instanceof AttributionError) return { ok: false, reason: error.message };
      throw error;
    }
    const rows = facts.types.get(outputName)?.shape[0];
    if (rows !== shape[0]) return { ok: false, reason: `output "${outputName}" has ${rows ?? 'no'} rows for an input of ${shape[0]}` };
    return { ok: true, facts };
  };
}
