import { clone } from '@bufbuild/protobuf';
import { NodeProtoSchema, TensorProtoSchema, type GraphProto, type NodeProto, type TensorProto } from '../proto/onnx_pb.js';

/** A graph's nodes and initializers with every value (and node) name passed through `rename`. */
export function renamedGraph(graph: GraphProto, rename: (name: string) => string): { nodes: NodeProto[]; initializers: TensorProto[] } {
  const nodes = graph.node.map((node) => {
    const copy = clone(NodeProtoSchema, node);
    copy.input = node.input.map((name) => (name === '' ? name : rename(name)));
    copy.output = node.output.map((name) => (name === '' ? name : rename(name)));
    if (node.name !== '') copy.name = rename(node.name);
    return copy;
  });
  const initializers = graph.initializer.map((tensor) => {
    const renamed = rename(tensor.name);
    if (renamed === tensor.name) return tensor;
    const copy = clone(TensorProtoSchema, tensor);
    copy.name = renamed;
    return copy;
  });
  return { nodes, initializers };
}

/** Every value and node name a graph uses. */
export function namesOf(graph: GraphProto): Set<string> {
  const names = new Set<string>();
  for (const node of graph.node) for (const name of [node.name, ...node.input, ...node.output]) names.add(name);
  for (const tensor of graph.initializer) names.add(tensor.name);
  return names;
}

/**
 * The nodes in an order where each comes after the producers of its inputs
 * (ONNX requires it), keeping the given order where it already holds: the
 * parts of a composed graph feed one another both ways (the targets need the
 * forward pass's logits; its backward pass needs the targets).
 */
export function topologicalOrder(nodes: readonly NodeProto[]): NodeProto[] {
  const producer = new Map<string, number>();
  nodes.forEach((node, i) => node.output.forEach((name) => name !== '' && producer.set(name, i)));
  const ordered: NodeProto[] = [];
  const state = new Uint8Array(nodes.length); // 0 new, 1 on the stack, 2 placed
  for (let root = 0; root < nodes.length; root++) {
    if (state[root] !== 0) continue;
    // Depth first without recursion: a ResNet's gradient graph is thousands of nodes deep.
    const stack: Array<{ index: number; next: number }> = [{ index: root, next: 0 }];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const inputs = nodes[top.index]!.input;
      if (top.next < inputs.length) {
        const from = producer.get(inputs[top.next++]!);
        if (from !== undefined && state[from] === 0) {
          state[from] = 1;
          stack.push({ index: from, next: 0 });
        } else if (from !== undefined && state[from] === 1) {
          throw new Error(`unreachable: the composed graph has a cycle through node "${nodes[from]!.name}"`);
        }
        continue;
      }
      stack.pop();
      state[top.index] = 2;
      ordered.push(nodes[top.index]!);
    }
  }
  return ordered;
}
