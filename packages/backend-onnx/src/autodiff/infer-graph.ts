import { AttributionError, formatShape } from '@saliency/core';
import { describeNode } from '../model/attributes.js';
import { checkActivation, DEFAULT_BUDGETS, elementCount, FoldingBudget, type ModelBudgets } from '../model/budgets.js';
import { readTensorProto } from '../model/const-tensor.js';
import type { DataType } from '../model/data-type.js';
import type { GraphProto, NodeProto, TensorProto } from '../proto/onnx_pb.js';
import { inlineBranch, namesRead } from './branches.js';
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
 * second head, another input's branch) may use any op. An `If` is decided
 * on the way (`branches.ts`): the returned `graph` holds its branch instead.
 */
export function inferGraph(
  graph: GraphProto,
  opset: number,
  inputShapes: ReadonlyMap<string, readonly number[]>,
  budgets: ModelBudgets = DEFAULT_BUDGETS,
  outputs?: readonly string[],
): InferredGraph {
  const folding = new FoldingBudget(budgets);
  const facts: GraphFacts = { types: new Map(), constants: new Map(), folding };
  const addInitializer = (tensor: TensorProto) => {
    const value = readTensorProto(tensor, `initializer "${tensor.name}"`);
    facts.constants.set(tensor.name, value);
    facts.types.set(tensor.name, { dataType: value.dataType, shape: value.dims });
  };
  graph.initializer.forEach(addInitializer);
  let wanted = outputs === undefined ? undefined : ancestors(graph, outputs);
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
  let current = graph;
  refuseUnknownOps(current, wanted, 0);
  for (let index = 0; index < current.node.length; index++) {
    if (wanted !== undefined && !wanted.nodes.has(index)) continue;
    const node = current.node[index]!;
    if (isIf(node)) {
      // Decided now (branches.ts): the node becomes the nodes of its branch, inferred next.
      const inlined = inlineBranch(current, index, facts.constants.get(node.input[0] ?? ''));
      inlined.initializers.forEach(addInitializer);
      current = inlined.graph;
      wanted = outputs === undefined ? undefined : ancestors(current, outputs);
      refuseUnknownOps(current, wanted, index);
      index--;
      continue;
    }
    inferNode(node, index, facts, opset, budgets);
  }
  return { ...facts, graph: current };
}

/** What `inferGraph` learnt, and the graph it is of: the given one with each `If` replaced by the branch it takes. */
export interface InferredGraph extends GraphFacts {
  readonly graph: GraphProto;
}

export function isIf(node: NodeProto): boolean {
  return node.opType === 'If' && (node.domain === '' || node.domain === 'ai.onnx');
}

/** Refuses, naming them, the nodes from `from` on (those `wanted`, if given) whose op has no definition; `If` is decided, not defined. */
function refuseUnknownOps(graph: GraphProto, wanted: { nodes: Set<number> } | undefined, from: number): void {
  const unknown = graph.node
    .map((node, index) => ({ node, index }))
    .filter(({ node, index }) => index >= from && (wanted === undefined || wanted.nodes.has(index)) && !isIf(node))
    .filter(({ node }) => !OPS.has(node.opType) || (node.domain !== '' && node.domain !== 'ai.onnx'));
  if (unknown.length > 0) {
    const listed = unknown.slice(0, 5).map(({ node, index }) => `${node.domain ? `${node.domain}.` : ''}${describeNode(node, index)}`);
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `the model uses ${unknown.length === 1 ? 'an op' : 'ops'} this package cannot differentiate: ${listed.join(', ')}` +
        `${unknown.length > 5 ? `, and ${unknown.length - 5} more` : ''}. Supported ops: ${supportedOps().join(', ')}`,
    );
  }
}

/** One node's output types, and its outputs' values where its op folds them from constant inputs. */
function inferNode(node: NodeProto, index: number, facts: GraphFacts, opset: number, budgets: ModelBudgets): void {
  const { folding } = facts;
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
  if (op.evaluate !== undefined && shapes.every((shape) => elementCount(shape) <= MAX_FOLDED_ELEMENTS) && folding!.fits(shapes)) {
    op.evaluate(ctx)?.forEach((value, i) => {
      const name = node.output[i];
      if (name === undefined || name === '') return;
      facts.constants.set(name, value);
      folding!.add(value.values.length);
    });
  }
  node.output.forEach((name, i) => {
    if (name !== '' && !facts.constants.has(name))
      checkActivation(facts.types.get(name)!.shape, budgets, `${describeNode(node, index)}, output ${i} "${name}"`);
  });
}

/** The index of the node that produces each (non-empty) output name of `nodes`. */
export function producersOf(nodes: readonly NodeProto[]): Map<string, number> {
  const producers = new Map<string, number>();
  nodes.forEach((node, index) => node.output.forEach((name) => name !== '' && producers.set(name, index)));
  return producers;
}

/** The nodes (by index) and the names that `outputs` depend on, through every input of every node on the way. */
export function ancestors(graph: GraphProto, outputs: readonly string[]): { nodes: Set<number>; inputs: Set<string> } {
  const producers = producersOf(graph.node);
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
    pending.push(...namesRead(graph.node[index]!));
  }
  return { nodes, inputs };
}
