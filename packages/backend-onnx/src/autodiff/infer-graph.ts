import { AttributionError, formatShape } from '@saliency/core';
import { describeNode } from '../model/attributes.js';
import { checkActivation, DEFAULT_BUDGETS, elementCount, FoldingBudget, type ModelBudgets } from '../model/budgets.js';
import { readTensorProto } from '../model/const-tensor.js';
import type { DataType } from '../model/data-type.js';
import type { GraphProto } from '../proto/onnx_pb.js';
import { OPS, supportedOps } from '../ops/registry.js';
import type { GraphFacts } from './graph-facts.js';
import { nodeContext } from './node-context.js';

/** Largest folded tensor: folding is for shape arithmetic and small constants, not for computing activations at build time. */
const MAX_FOLDED_ELEMENTS = 1 << 16;

/**
 * Static shape inference for the given input shapes: every value's type, from
 * the graph inputs through each node's `inferTypes` in order, folding to a
 * constant each node whose op can evaluate it from constant inputs (shape
 * arithmetic: Shape → Gather → Concat → Reshape). Refuses, before anything
 * runs, a node whose op it does not know, and (`MODEL_TOO_LARGE`, before any
 * allocation) a constant or a value over the `budgets`. With `outputs`, only
 * the nodes those outputs depend on are looked at: the rest of the graph (a
 * second head, another input's branch) may use any op.
 */
export function inferGraph(
  graph: GraphProto,
  opset: number,
  inputShapes: ReadonlyMap<string, readonly number[]>,
  budgets: ModelBudgets = DEFAULT_BUDGETS,
  outputs?: readonly string[],
): GraphFacts {
  const folding = new FoldingBudget(budgets);
  const wanted = outputs === undefined ? undefined : ancestors(graph, outputs);
  const facts: GraphFacts = { types: new Map(), constants: new Map(), folding };
  for (const tensor of graph.initializer) {
    const value = readTensorProto(tensor, `initializer "${tensor.name}"`);
    facts.constants.set(tensor.name, value);
    facts.types.set(tensor.name, { dataType: value.dataType, shape: value.dims });
  }
  for (const input of graph.input) {
    if (facts.types.has(input.name) || (wanted !== undefined && !wanted.inputs.has(input.name))) continue;
    const shape = inputShapes.get(input.name);
    const tensorType = input.type?.value.case === 'tensorType' ? input.type.value.value : undefined;
    if (shape === undefined || tensorType === undefined) {
      throw new AttributionError('UNSUPPORTED_MODEL', `graph input "${input.name}" has no shape given for it`);
    }
    checkActivation(shape, budgets, `graph input "${input.name}"`);
    facts.types.set(input.name, { dataType: tensorType.elemType as DataType, shape: [...shape] });
  }
  const kept = graph.node.map((node, index) => ({ node, index })).filter(({ index }) => wanted === undefined || wanted.nodes.has(index));
  const unknown = kept.filter(({ node }) => !OPS.has(node.opType) || (node.domain !== '' && node.domain !== 'ai.onnx'));
  if (unknown.length > 0) {
    const listed = unknown.slice(0, 5).map(({ node, index }) => `${node.domain ? `${node.domain}.` : ''}${describeNode(node, index)}`);
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `the model uses ${unknown.length === 1 ? 'an op' : 'ops'} this package cannot differentiate: ${listed.join(', ')}` +
        `${unknown.length > 5 ? `, and ${unknown.length - 5} more` : ''}. Supported ops: ${supportedOps().join(', ')}`,
    );
  }
  kept.forEach(({ node, index }) => {
    const op = OPS.get(node.opType)!;
    const ctx = nodeContext(node, facts, opset, index);
    const types = op.inferTypes(ctx);
    node.output.forEach((name, i) => {
      if (name === '') return;
      const type = types[i];
      if (type === undefined) ctx.fail(`output ${i} has no inferred type`);
      if (!type!.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        ctx.fail(`inferred shape ${formatShape(type!.shape)} of output ${i} is not static`);
      }
      facts.types.set(name, type!);
    });
    const shapes = node.output.filter((name) => name !== '').map((name) => facts.types.get(name)!.shape);
    if (op.evaluate !== undefined && shapes.every((shape) => elementCount(shape) <= MAX_FOLDED_ELEMENTS) && folding.fits(shapes)) {
      op.evaluate(ctx)?.forEach((value, i) => {
        const name = node.output[i];
        if (name === undefined || name === '') return;
        facts.constants.set(name, value);
        folding.add(value.values.length);
      });
    }
    node.output.forEach((name, i) => {
      if (name !== '' && !facts.constants.has(name))
        checkActivation(facts.types.get(name)!.shape, budgets, `${describeNode(node, index)}, output ${i} "${name}"`);
    });
  });
  return facts;
}

/** The nodes (by index) and the names that `outputs` depend on, through every input of every node on the way. */
export function ancestors(graph: GraphProto, outputs: readonly string[]): { nodes: Set<number>; inputs: Set<string> } {
  const producers = new Map<string, number>();
  graph.node.forEach((node, index) => node.output.forEach((name) => name !== '' && producers.set(name, index)));
  const nodes = new Set<number>();
  const inputs = new Set<string>();
  const pending = [...outputs];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (inputs.has(name)) continue;
    inputs.add(name);
    const index = producers.get(name);
    if (index === undefined || nodes.has(index)) continue;
    nodes.add(index);
    pending.push(...graph.node[index]!.input.filter((input) => input !== ''));
  }
  return { nodes, inputs };
}
