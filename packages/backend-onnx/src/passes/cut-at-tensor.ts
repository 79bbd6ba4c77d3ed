import { create } from '@bufbuild/protobuf';
import { DataType } from '../model/data-type.js';
import { valueInfo } from '../model/value-info.js';
import { GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, type ModelProto, type ValueInfoProto } from '../proto/onnx_pb.js';

/*
 * Attribution at a tensor a = g(u) inside the model (docs/methods.md,
 * "Attribution at a tensor") splits the model f(u) = h(g(u)) in two: the
 * remainder h, which the gradient graphs differentiate with `a` as their
 * input, and the prefix g, which ONNX Runtime runs as it is to compute `a`.
 * Both share the model's initializers and nodes; only what differs is new.
 */

/**
 * The remainder h: the model with `tensor` made a graph input of rank
 * `rank` (free dimensions; the shapes come with each call), and its
 * producer's output renamed to a name nothing reads, so that every node
 * only `tensor` needed is off the explained path and never built.
 */
export function remainderAt(model: ModelProto, tensor: string, rank: number | undefined): ModelProto {
  const graph = model.graph!;
  const taken = new Set(graph.node.flatMap((node) => [...node.input, ...node.output]));
  let unused = `${tensor}/before_cut`;
  while (taken.has(unused)) unused += '_';
  const node = graph.node.map((n) =>
    n.output.includes(tensor) ? create(NodeProtoSchema, { ...n, output: n.output.map((o) => (o === tensor ? unused : o)) }) : n,
  );
  const input: ValueInfoProto[] = [...graph.input, tensorInfo(tensor, rank)];
  return create(ModelProtoSchema, { ...model, graph: create(GraphProtoSchema, { ...graph, node, input }) });
}

/**
 * The prefix g: the model with `tensor` as its only output, and of the
 * model's nodes and graph inputs only those `tensor` depends on (`needed`,
 * by node index and name), so that a session of it asks for no other feed.
 */
export function prefixTo(
  model: ModelProto,
  tensor: string,
  rank: number | undefined,
  needed: { readonly nodes: ReadonlySet<number>; readonly inputs: ReadonlySet<string> },
): ModelProto {
  const graph = model.graph!;
  // An initializer listed among the inputs (IR version 3) stays there.
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const input = graph.input.filter((i) => needed.inputs.has(i.name) || initializers.has(i.name));
  const node = graph.node.filter((_, index) => needed.nodes.has(index));
  // Only the weights the prefix reads (an embedding table), not the whole model's, go into its session.
  // (A node holding a subgraph may read any of them from its scope: then all stay.)
  const read = new Set(node.flatMap((n) => n.input));
  const scoped = node.some((n) => n.attribute.some((a) => a.g !== undefined || a.graphs.length > 0));
  const initializer = graph.initializer.filter((t) => scoped || read.has(t.name) || input.some((i) => i.name === t.name));
  const output = [tensorInfo(tensor, rank)];
  return create(ModelProtoSchema, { ...model, graph: create(GraphProtoSchema, { ...graph, node, input, initializer, output }) });
}

/** A float32 tensor of free dimensions: of rank `rank`, or of no declared shape where the rank is not known. */
function tensorInfo(name: string, rank: number | undefined): ValueInfoProto {
  const info = valueInfo(
    name,
    Array.from({ length: rank ?? 0 }, (_, axis) => `${name}_dim${axis}`),
    DataType.FLOAT,
  );
  if (rank === undefined && info.type?.value.case === 'tensorType') info.type.value.value.shape = undefined;
  return info;
}
