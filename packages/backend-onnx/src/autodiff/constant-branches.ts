import { create } from '@bufbuild/protobuf';
import { AttributionError } from '@saliency/core';
import type { ModelBudgets } from '../model/budgets.js';
import type { ConstTensor } from '../model/const-tensor.js';
import { defaultOpset } from '../model/onnx-model.js';
import { ModelProtoSchema, type ModelProto } from '../proto/onnx_pb.js';
import { inlineBranch } from './branches.js';
import { inferGraph, isIf } from './infer-graph.js';

/**
 * The model with each `If` of its graph whose condition folds from constants
 * alone (initializers, `Constant` nodes, the scalar feeds folded in) replaced
 * by the branch it takes (`branches.ts`), as every graph built from it would
 * decide it: so a tensor inside that branch (Silero VAD's whole model, under
 * an `If` on the sample rate) can be named by the `layer` option. An `If`
 * whose condition depends on the inputs (their shapes or values) stays,
 * decided when a graph is built for a shape. The model is not modified.
 */
export function decideConstantBranches(model: ModelProto, budgets: ModelBudgets): ModelProto {
  let graph = model.graph!;
  const opset = defaultOpset(model);
  for (let index = 0; index < graph.node.length; index++) {
    const node = graph.node[index]!;
    const condition = node.input[0];
    if (!isIf(node) || condition === undefined || condition === '') continue;
    let value: ConstTensor | undefined;
    try {
      // No input shapes: a condition that reads an input (its shape or values) is refused here, and stays undecided.
      value = inferGraph(graph, opset, new Map(), budgets, [condition]).constants.get(condition);
    } catch (error) {
      if (error instanceof AttributionError && error.code === 'UNSUPPORTED_MODEL') continue;
      throw error;
    }
    if (value === undefined) continue;
    graph = inlineBranch(graph, index, value).graph;
    index--;
  }
  return graph === model.graph ? model : create(ModelProtoSchema, { ...model, graph });
}
