import type { GraphModelLike } from './model-types.js';

/** The parts of tfjs-converter's graph that the backend reads. */
export interface GraphNodeLike {
  readonly name: string;
  readonly op: string;
  readonly inputNames: readonly string[];
  readonly inputs: readonly GraphNodeLike[];
  /** The node's attributes as the converter parsed them (LRP reads a convolution's strides, padding, fused ops). */
  readonly attrParams?: { readonly [name: string]: { readonly value?: unknown } | undefined };
}

/** tfjs-converter's graph, kept on a private `executor`; undefined if a future version moves it. */
export function graphOf(model: GraphModelLike): { outputs?: unknown; nodes?: Record<string, unknown> } | undefined {
  return (model as unknown as { executor?: { graph?: { outputs?: unknown; nodes?: Record<string, unknown> } } }).executor?.graph;
}

export function asGraphNode(value: unknown): GraphNodeLike | undefined {
  const node = value as Partial<GraphNodeLike> | undefined;
  if (typeof node?.op !== 'string' || !Array.isArray(node.inputs) || !Array.isArray(node.inputNames)) return undefined;
  return node as GraphNodeLike;
}

/** A tensor name "node:0" names output 0 of the node. */
export function nodeNameOf(name: string): string {
  return name.replace(/:0$/, '');
}

/** `node "name" (Op)`, for messages. */
export function describeNode(node: GraphNodeLike): string {
  return `node "${node.name}" (${node.op})`;
}
