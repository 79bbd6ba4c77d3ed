import { AttributionError } from '@saliency/core';
import { Attributes, describeNode } from '../model/attributes.js';
import { FoldingBudget } from '../model/budgets.js';
import type { ConstTensor } from '../model/const-tensor.js';
import type { NodeProto } from '../proto/onnx_pb.js';
import type { NodeContext, TensorType } from '../ops/op-definition.js';
import type { GraphFacts } from './graph-facts.js';

/** A node as its op's rules see it, over what is known of the graph. */
export function nodeContext(node: NodeProto, facts: GraphFacts, opset: number, index?: number): NodeContext {
  const where = describeNode(node, index);
  const fail = (message: string): never => {
    throw new AttributionError('UNSUPPORTED_MODEL', `${where}: ${message}`);
  };
  const nameOf = (i: number): string => {
    const name = node.input[i];
    if (name === undefined || name === '') fail(`input ${i} is required but not given`);
    return name!;
  };
  return {
    node,
    attributes: new Attributes(node),
    opset,
    inputCount: node.input.length,
    hasInput: (i) => i < node.input.length && node.input[i] !== '',
    input: (i): TensorType => {
      const name = nameOf(i);
      const type = facts.types.get(name);
      if (type === undefined) fail(`input ${i} ("${name}") has no known type`);
      return type!;
    },
    constant: (i): ConstTensor | undefined => {
      const name = node.input[i];
      return name === undefined || name === '' ? undefined : facts.constants.get(name);
    },
    fail,
    checkFoldable: (dims) => (facts.folding ?? new FoldingBudget()).check(dims, where),
  };
}
