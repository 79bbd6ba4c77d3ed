import { create } from '@bufbuild/protobuf';
import type { OutputPosition } from '@saliency/core';
import { GraphProtoSchema, NodeProtoSchema, type GraphProto, type NodeProto, type TensorProto } from '../proto/onnx_pb.js';
import { attributeProto } from './attribute-value.js';
import { constTensor, writeTensorProto } from './const-tensor.js';
import { DataType } from './data-type.js';
import { EMITTED_PREFIX } from './emitted-name.js';
import { reduceAxesAsInput } from './operand-forms.js';
import { valueInfo } from './value-info.js';

/** The prefix of the head's nodes and values, which the LRP rule sets recognise (`backward/lrp.ts`). */
const HEAD_PREFIX = `${EMITTED_PREFIX}output_position/`;

/**
 * The head that selects the position from `logits` (of shape `shape`, batch
 * axis first), as a graph from `logits` to its output, shaped [B, K]: per
 * fixed axis a Gather of the index, per range a Gather of its indices and a
 * ReduceMean over them (both kept as axes of size 1), then a Reshape to
 * [B, K]. Gather reads its indices as an input at every opset, and its
 * gradient and the mean's are linear, so every method treats the head as the
 * model's own ops.
 */
export function outputPositionHead(
  position: OutputPosition,
  logits: string,
  shape: readonly number[],
  dataType: DataType,
  opset: number,
): { graph: GraphProto; output: string } {
  const nodes: NodeProto[] = [];
  const initializer: TensorProto[] = [];
  let current = logits;
  const add = (opType: string, inputs: string[], attributes: NodeProto['attribute'] = []) => {
    const name = `${HEAD_PREFIX}${nodes.length}`;
    nodes.push(create(NodeProtoSchema, { opType, name, input: inputs, output: [name], attribute: attributes }));
    current = name;
  };
  const literal = (values: readonly number[]) => {
    const name = `${HEAD_PREFIX}c${initializer.length}`;
    initializer.push(writeTensorProto(name, constTensor(DataType.INT64, [values.length], values)));
    return name;
  };
  position.forEach((entry, i) => {
    if (entry === null) return;
    const axis = i + 1;
    const [start, end] = typeof entry === 'number' ? [entry, entry + 1] : entry;
    const indices = Array.from({ length: end - start }, (_, j) => start + j);
    add('Gather', [current, literal(indices)], [attributeProto('axis', { int: axis })]);
    if (indices.length === 1) return;
    const keepdims = attributeProto('keepdims', { int: 1 });
    if (reduceAxesAsInput('ReduceMean', opset)) add('ReduceMean', [current, literal([axis])], [keepdims]);
    else add('ReduceMean', [current], [attributeProto('axes', { ints: [axis] }), keepdims]);
  });
  const classes = shape[position.indexOf(null) + 1]!;
  add('Reshape', [current, literal([shape[0]!, classes])]);
  return {
    graph: create(GraphProtoSchema, {
      name: 'output_position',
      node: nodes,
      initializer,
      input: [valueInfo(logits, shape, dataType)],
      output: [valueInfo(current, [shape[0]!, classes], dataType)],
    }),
    output: current,
  };
}

/** Whether a node is of the head `outputPositionHead` makes. */
export function isOutputPositionNode(node: NodeProto): boolean {
  return node.name.startsWith(HEAD_PREFIX);
}
