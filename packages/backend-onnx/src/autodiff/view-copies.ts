import { clone, create } from '@bufbuild/protobuf';
import { supports } from '../execution-provider/execution-provider.js';
import { isFloatType } from '../model/data-type.js';
import { NodeProtoSchema, type NodeProto } from '../proto/onnx_pb.js';
import type { GraphFacts } from './graph-facts.js';
import type { GraphEmitter } from './graph-emitter.js';

/** Ops whose output is a view of their input's texture on the WebGL EP. */
const VIEWS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);

/** Element-wise ops: the WebGL EP's kernels for them read same-shaped inputs texel by texel. */
const ELEMENTWISE = new Set([
  'Abs',
  'Acos',
  'Add',
  'And',
  'Asin',
  'Atan',
  'Cast',
  'Ceil',
  'Clip',
  'Cos',
  'Div',
  'Elu',
  'Equal',
  'Exp',
  'Floor',
  'Greater',
  'LeakyRelu',
  'Less',
  'Log',
  'Mul',
  'Neg',
  'Not',
  'Or',
  'Pow',
  'PRelu',
  'Relu',
  'Sigmoid',
  'Sin',
  'Sqrt',
  'Sub',
  'Sum',
  'Tan',
  'Tanh',
  'Xor',
]); // prettier-ignore

/**
 * Where the execution provider lacks `elementwiseOfView` (WebGL), an
 * element-wise node that reads a float Reshape/Flatten/Squeeze/Unsqueeze output
 * reads a copy of it instead: a Mul by a one-element 1, exact in floating point,
 * whose broadcasting kernel reads its input by coordinates and writes a
 * texture laid out for the new shape. One copy per viewed value.
 */
export function copyViewsReadElementwise(nodes: NodeProto[], emitter: GraphEmitter, facts: GraphFacts): NodeProto[] {
  if (supports(emitter.executionProvider, 'elementwiseOfView')) return nodes;
  const views = new Set(nodes.filter((n) => VIEWS.has(n.opType)).map((n) => n.output[0]!));
  const copies = new Map<string, string>();
  const copyOf = (name: string): string => {
    const type = facts.types.get(name);
    if (!views.has(name) || type === undefined || !isFloatType(type.dataType)) return name;
    let copy = copies.get(name);
    if (copy === undefined) {
      copy = emitter.freshName();
      copies.set(name, copy);
      emitter.setType(copy, type);
    }
    return copy;
  };
  const rewritten = nodes.map((node) => {
    if (!ELEMENTWISE.has(node.opType) || !node.input.some((name) => views.has(name))) return node;
    const copying = clone(NodeProtoSchema, node);
    copying.input = node.input.map(copyOf);
    return copying;
  });
  const result: NodeProto[] = [];
  for (const node of rewritten) {
    result.push(node);
    for (const output of node.output) {
      const copy = copies.get(output);
      if (copy === undefined) continue;
      const one = emitter.literal([1], [1], facts.types.get(output)!.dataType);
      result.push(
        create(NodeProtoSchema, {
          opType: 'Mul',
          name: emitter.freshName('Mul_'),
          input: [output, one],
          output: [copy],
        }),
      );
    }
  }
  return result;
}
