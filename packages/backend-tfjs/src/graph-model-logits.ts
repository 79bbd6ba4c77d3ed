import type * as tf from '@tensorflow/tfjs-core';
import { AttributionError, isInputRule } from '@saliency/core';
import { attributedInput, type FeedValues, type ModelInput } from './feeds.js';
import { asGraphNode, graphOf, nodeNameOf, type GraphNodeLike } from './graph-nodes.js';
import { graphLrpLogits, planGraphLrp } from './lrp-graph.js';
import type { GraphModelLike } from './model-types.js';
import {
  asTensor,
  isFeatureMap,
  notSeparating,
  unknownLayer,
  unstrippable,
  type LayerSplit,
  type LogitsFunction,
  type ModelParts,
} from './model-run.js';

const SOFTMAX_OPS = new Set(['Softmax', 'LogSoftmax']);
const SIGMOID_OP = 'Sigmoid';
const PASS_THROUGH_OPS = new Set(['Identity', 'IdentityN', 'StopGradient', 'Snapshot']);
/** Nodes that compute nothing from the input: never a layer. */
const SOURCE_OPS = new Set(['Const', 'Placeholder']);

/**
 * A GraphModel as the backend runs it: `execute` with a dict that gives the
 * attributed input (or, with the `layer` option, that node: a node in the
 * dict replaces what the graph computes there) and the feeds.
 */
export function graphModelLogits(model: GraphModelLike, parts: ModelParts): LogitsFunction {
  const inputs: ModelInput[] = model.inputs.map((i) => ({
    name: i.name,
    // GraphModel shapes write an unknown size as -1.
    shape: i.shape?.map((d) => (d < 0 ? null : d)),
    dtype: i.dtype,
  }));
  const attributed = attributedInput(inputs, parts.inputName, 'GraphModel');
  const others = inputs.filter((i) => i !== attributed).map((i) => i.name);
  if (parts.outputName === undefined && model.outputs.length !== 1) {
    throw new AttributionError(
      'INVALID_OPTION',
      `createTfjsBackend: the GraphModel has ${model.outputs.length} outputs; name the one explained with outputName: ` +
        model.outputs.map((o) => `${o.name} [${o.shape?.join(', ') ?? '?'}]`).join(', '),
    );
  }
  const head = graphHead(model, parts);
  const graph = graphNodes(model, head.output);
  const start = parts.layer === undefined ? attributed.name : namedNode(graph, parts.layer, attributed.name);
  if (start !== attributed.name && graph !== undefined) {
    const through = pathAround(graph.nodes[head.output ?? ''] ?? graph.output, start, attributed.name, new Set());
    if (through !== undefined) throw notSeparating(parts.layer!, attributed.name, `node ${through.name} (${through.op})`);
  }
  const dictAt = (at: string, x: tf.Tensor, feeds: FeedValues): Record<string, tf.Tensor> =>
    Object.fromEntries([[at, x], ...others.map((name) => [name, feeds.get(name)!])]);
  const execute = (dict: Record<string, tf.Tensor>, output: string | undefined): tf.Tensor =>
    asTensor(model.execute(dict, output), 'GraphModel');
  const defaults = new Map<string, string>();

  return {
    run: (x, feeds) => execute(dictAt(start, x, feeds), head.output),
    inputShape: start === attributed.name ? attributed.shape : undefined,
    outputShape: declaredOutputShape(model, parts.outputName === undefined ? undefined : nodeNameOf(parts.outputName)),
    description: start === attributed.name ? head.description : `${head.description} from node ${start}`,
    inputs,
    attributedInputName: attributed.name,
    ...(start === attributed.name ? {} : { attributedValue: (u, feeds) => execute(dictAt(attributed.name, u, feeds), start) }),
    ...(start !== attributed.name || graph === undefined
      ? {}
      : {
          lrp: (set) => {
            const output = head.output ?? graph.output?.name ?? model.outputNodes[0]!;
            return graphLrpLogits(model, planGraphLrp(graph.nodes, model.weights ?? {}, start, output, isInputRule(set.first)), set);
          },
        }),
    layerSplit(layer: string | undefined, x: tf.Tensor, feeds: FeedValues): LayerSplit {
      const dict = dictAt(start, x, feeds);
      let name: string;
      if (layer !== undefined) {
        name = namedNode(graph, layer, start);
      } else {
        // Node shapes are known only by running: the first call per input shape runs every candidate once.
        const key = x.shape.slice(1).join(',');
        name = defaults.get(key) ?? defaultNode(model, graph, dict, start, x.rank);
        defaults.set(key, name);
      }
      return { name, activation: execute(dict, name), logitsFrom: (a) => execute({ ...dict, [name]: a }, head.output) };
    },
  };
}

/** The graph's nodes by name and the default output node, when the graph can be read. */
interface Graph {
  readonly nodes: Readonly<Record<string, GraphNodeLike>>;
  readonly output: GraphNodeLike | undefined;
  /** The nodes the logits are computed from, each after those it reads. */
  readonly order: readonly GraphNodeLike[];
}

function graphNodes(model: GraphModelLike, output: string | undefined): Graph | undefined {
  const graph = graphOf(model);
  if (graph?.nodes === undefined) return undefined;
  const nodes = graph.nodes as Record<string, GraphNodeLike>;
  const outputs = Array.isArray(graph.outputs) ? graph.outputs.map(asGraphNode) : [];
  const target = output === undefined ? outputs[0] : nodes[output];
  const order: GraphNodeLike[] = [];
  const seen = new Set<GraphNodeLike>();
  const visit = (node: GraphNodeLike): void => {
    if (seen.has(node)) return;
    seen.add(node);
    for (const i of node.inputs) visit(i);
    order.push(node);
  };
  if (target !== undefined) visit(target);
  return { nodes, output: outputs.length === 1 ? outputs[0] : undefined, order };
}

/** The names of the nodes computed from `from`, in graph order. */
function dependentNames(graph: Graph, from: string): string[] {
  const found = new Set<string>();
  for (const node of graph.order) {
    if (node.name === from || node.inputs.some((i) => found.has(i.name))) found.add(node.name);
  }
  return graph.order.filter((n) => n.name !== from && found.has(n.name) && !SOURCE_OPS.has(n.op)).map((n) => n.name);
}

/** The node `layer` names, which must be computed from `from` (unchecked when the graph cannot be read). */
function namedNode(graph: Graph | undefined, layer: string, from: string): string {
  const name = nodeNameOf(layer);
  if (graph === undefined) return name;
  const candidates = dependentNames(graph, from);
  if (!candidates.includes(name)) {
    const why = name in graph.nodes ? `is not computed from "${from}" on the way to the logits` : 'is no node of the graph';
    throw unknownLayer(
      layer,
      why,
      candidates.map((c) => `"${c}" (${graph.nodes[c]!.op})`),
    );
  }
  return name;
}

/** docs/methods.md, "Grad-CAM": the last node, in graph order, of the input's rank with more than one position. */
function defaultNode(
  model: GraphModelLike,
  graph: Graph | undefined,
  dict: Record<string, tf.Tensor>,
  start: string,
  rank: number,
): string {
  const candidates = graph === undefined ? [] : dependentNames(graph, start);
  const values = candidates.length === 0 ? [] : model.execute(dict, candidates);
  const shapes = (Array.isArray(values) ? values : [values]).map((v) => v.shape);
  for (const v of Array.isArray(values) ? values : [values]) v.dispose();
  let index = Math.min(shapes.length, candidates.length) - 1;
  while (index >= 0 && !isFeatureMap(shapes[index]!, rank)) index--;
  if (index < 0) {
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `no layer to explain: no node of the input's rank ${rank} with more than one position lies between "${start}" and the logits` +
        `${graph === undefined ? ' (the graph could not be read)' : ''}; give the layer by node name`,
    );
  }
  return candidates[index]!;
}

/** A node that reads `attributed` on a path from `node` that does not pass `start`, if any. */
function pathAround(node: GraphNodeLike | undefined, start: string, attributed: string, seen: Set<string>): GraphNodeLike | undefined {
  if (node === undefined || node.name === start || seen.has(node.name)) return undefined;
  seen.add(node.name);
  for (const input of node.inputs) {
    if (input.name === attributed) return node;
    const found = pathAround(input, start, attributed, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The rank of the GraphModel's single output where its signature gives it (a sigmoid is a probability head on [B, K] only). */
function graphOutputRank(model: GraphModelLike): number | undefined {
  return model.outputs[0]?.shape?.length;
}

/** The shape the signature declares for the output `nodeName` (undefined: the only output), `null` for a free size. */
function declaredOutputShape(model: GraphModelLike, nodeName: string | undefined): (number | null)[] | undefined {
  const output = nodeName === undefined ? model.outputs[0] : model.outputs.find((o) => nodeNameOf(o.name) === nodeName);
  return output?.shape?.map((d) => (d < 0 ? null : d));
}

/** The node whose value is the logits (undefined: the model's own output) and a description. */
function graphHead(model: GraphModelLike, parts: ModelParts): { output: string | undefined; description: string } {
  const nodeName = parts.outputName === undefined ? undefined : nodeNameOf(parts.outputName);
  const graph = graphOf(model);
  const nodes = graph?.nodes;
  if (nodeName !== undefined && nodes !== undefined && !(nodeName in nodes)) {
    throw new AttributionError(
      'INVALID_OPTION',
      `createTfjsBackend: the GraphModel has no node named ${JSON.stringify(parts.outputName)}; its outputs are ` +
        `${model.outputs.map((o) => `${o.name} [${o.shape?.join(', ') ?? '?'}]`).join(', ')}, and any node of its graph may be named`,
    );
  }
  const described = nodeName === undefined ? 'GraphModel' : `GraphModel output ${nodeName}`;
  let node: GraphNodeLike | undefined;
  if (parts.softmax === 'strip') {
    if (nodeName !== undefined) node = asGraphNode(nodes?.[nodeName]);
    else if (Array.isArray(graph?.outputs) && graph.outputs.length === 1) node = asGraphNode(graph.outputs[0]);
  }
  while (node !== undefined && PASS_THROUGH_OPS.has(node.op) && node.inputs.length >= 1) node = node.inputs[0];
  if (
    node === undefined ||
    !(
      SOFTMAX_OPS.has(node.op) ||
      (node.op === SIGMOID_OP &&
        (parts.outputPosition !== undefined || ((nodeName === undefined ? graphOutputRank(model) : undefined) ?? 2) === 2))
    )
  ) {
    return { output: nodeName, description: described };
  }
  const logitsName = node.inputNames.find((name) => !name.startsWith('^'));
  if (logitsName === undefined) throw unstrippable(`node ${node.name} (${node.op})`);
  return { output: nodeNameOf(logitsName), description: `GraphModel without its final ${node.op} (${node.name})` };
}
