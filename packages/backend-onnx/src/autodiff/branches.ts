import { create } from '@bufbuild/protobuf';
import { AttributionError } from '@saliency/core';
import { describeNode } from '../model/attributes.js';
import type { ConstTensor } from '../model/const-tensor.js';
import { GraphProtoSchema, NodeProtoSchema, type GraphProto, type NodeProto } from '../proto/onnx_pb.js';

/*
 * `If` nodes, as exporters write them for a choice made in Python (the
 * sample rate of a model that takes two, a rank or size check), are decided
 * when the graphs are built: the condition must be known then (folded from
 * constants, the input shapes and scalar feeds), and the node is replaced by
 * the branch it takes. An `If` decided per example by the input's values
 * chooses between two functions, and its gradient is no derivative of
 * either across the switch: it is refused.
 */

/** The names a node reads: its inputs, and the names of enclosing graphs its subgraphs read (If, Loop, Scan bodies). */
export function namesRead(node: NodeProto): string[] {
  const names = node.input.filter((name) => name !== '');
  for (const attribute of node.attribute) {
    for (const sub of [...(attribute.g === undefined ? [] : [attribute.g]), ...attribute.graphs]) names.push(...outerNames(sub));
  }
  return names;
}

/** The names `graph`'s nodes read that it does not define itself (its captures of enclosing graphs' values). */
function outerNames(graph: GraphProto): string[] {
  const defined = new Set([
    ...graph.input.map((i) => i.name),
    ...graph.initializer.map((t) => t.name),
    ...graph.node.flatMap((node) => node.output),
  ]);
  return graph.node.flatMap((node) => namesRead(node)).filter((name) => !defined.has(name));
}

/**
 * `graph` with its `If` node at `index` replaced by the branch `condition`
 * (its folded value) takes: the branch's nodes, its initializers (returned
 * too, for the facts already gathered), and an Identity from each branch
 * output to the If's output of the same position. `graph` is not modified.
 */
export function inlineBranch(
  graph: GraphProto,
  index: number,
  condition: ConstTensor | undefined,
): { graph: GraphProto; initializers: GraphProto['initializer'] } {
  const node = graph.node[index]!;
  const where = describeNode(node, index);
  if (condition === undefined) {
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `${where}: its condition "${node.input[0]}" depends on values known only when the model runs (the input's values, a feed of rows), ` +
        `not on constants, shapes and scalar feeds: a branch chosen per example has no gradient across the choice, so it cannot be differentiated`,
    );
  }
  if (condition.values.length !== 1) {
    throw new AttributionError('INVALID_MODEL', `${where}: its condition holds ${condition.values.length} values, not one`);
  }
  const name = condition.values[0] !== 0 ? 'then_branch' : 'else_branch';
  const branch = node.attribute.find((a) => a.name === name)?.g;
  if (branch === undefined) throw new AttributionError('INVALID_MODEL', `${where}: has no ${name}`);
  if (branch.output.length !== node.output.length) {
    throw new AttributionError(
      'INVALID_MODEL',
      `${where}: its ${name} has ${branch.output.length} outputs for the node's ${node.output.length}`,
    );
  }
  const outer = new Set([
    ...graph.initializer.map((t) => t.name),
    ...graph.input.map((i) => i.name),
    ...graph.node.flatMap((n) => n.output),
  ]);
  const clash = [...branch.initializer.map((t) => t.name), ...branch.node.flatMap((n) => n.output)].find((n) => n !== '' && outer.has(n));
  if (clash !== undefined) {
    throw new AttributionError('INVALID_MODEL', `${where}: its ${name} defines "${clash}", which the enclosing graph defines too`);
  }
  const outputs = node.output.flatMap((output, i) =>
    output === ''
      ? []
      : [
          create(NodeProtoSchema, {
            opType: 'Identity',
            name: `${node.name}/${name}/${i}`,
            input: [branch.output[i]!.name],
            output: [output],
          }),
        ],
  );
  const nodes = [...graph.node.slice(0, index), ...branch.node, ...outputs, ...graph.node.slice(index + 1)];
  const initializer = [...graph.initializer, ...branch.initializer];
  return { graph: create(GraphProtoSchema, { ...graph, node: nodes, initializer }), initializers: branch.initializer };
}
