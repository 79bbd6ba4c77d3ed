import { AttributionError } from '@saliency/core';
import type { GraphProto, NodeProto, TensorProto } from '../proto/onnx_pb.js';
import { describeNode } from './attributes.js';
import { tooLarge, type ModelBudgets } from './budgets.js';
import { checkTensorProto } from './validate-tensor.js';

/**
 * Checks a decoded model's structure against the budgets and its tensors
 * against their data, before anything reads a value: the number of nodes and
 * the nesting of subgraphs (walked without recursion, so a hostile depth
 * cannot overflow the stack), and every initializer and tensor attribute
 * (`checkTensorProto`). External data must have been resolved first.
 */
export function checkModelStructure(graph: GraphProto, budgets: ModelBudgets): void {
  let nodes = 0;
  const pending: Array<{ graph: GraphProto; depth: number; where: string }> = [{ graph, depth: 0, where: 'the main graph' }];
  const tensors: Array<{ tensor: TensorProto; where: string }> = [];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    if (item.depth > budgets.maxSubgraphDepth) {
      throw tooLarge(item.where, `a subgraph nested ${item.depth} levels deep`, 'maxSubgraphDepth', budgets);
    }
    nodes += item.graph.node.length;
    if (nodes > budgets.maxNodes) {
      throw tooLarge(item.where, `the model has more than ${nodes.toLocaleString('en-US')} nodes`, 'maxNodes', budgets);
    }
    const graphName = item.depth === 0 ? '' : ` (in ${item.where})`;
    for (const tensor of item.graph.initializer) tensors.push({ tensor, where: `initializer${graphName}` });
    item.graph.node.forEach((node: NodeProto, index) => {
      const where = `${describeNode(node, index)}${graphName}`;
      for (const attribute of node.attribute) {
        if (attribute.t !== undefined) tensors.push({ tensor: attribute.t, where: `${where}, attribute ${attribute.name}` });
        for (const tensor of attribute.tensors) tensors.push({ tensor, where: `${where}, attribute ${attribute.name}` });
        const subgraphs = [...(attribute.g === undefined ? [] : [attribute.g]), ...attribute.graphs];
        for (const sub of subgraphs)
          pending.push({ graph: sub, depth: item.depth + 1, where: `the subgraph of ${where}, attribute ${attribute.name}` });
      }
    });
  }
  for (const { tensor, where } of tensors) checkTensorProto(tensor, where);
}

/**
 * Moves each external-data initializer's bytes into its `raw_data`, from
 * `externalData` by the `location` the model names, after checking that its
 * `offset` and `length` are integers that lie inside that file.
 */
export function resolveExternalData(graph: GraphProto, externalData: ReadonlyMap<string, Uint8Array> | undefined): void {
  for (const tensor of graph.initializer) {
    if (tensor.dataLocation !== 1 && tensor.externalData.length === 0) continue;
    const location = tensor.externalData.find((entry) => entry.key === 'location')?.value;
    const data = location === undefined ? undefined : externalData?.get(location);
    if (data === undefined) {
      throw new AttributionError(
        'UNSUPPORTED_MODEL',
        `initializer "${tensor.name}" keeps its data in the external file "${location ?? '?'}"; ` +
          "pass that file's bytes in the externalData option (a map from file name to bytes), or save the model with its data inside",
      );
    }
    const entry = (key: string, fallback: number): number => {
      const text = tensor.externalData.find((e) => e.key === key)?.value;
      if (text === undefined) return fallback;
      const value = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(value)) {
        throw new AttributionError(
          'INVALID_MODEL',
          `initializer "${tensor.name}": external data ${key} ${JSON.stringify(text)} is not an integer ≥ 0`,
        );
      }
      return value;
    };
    const offset = entry('offset', 0);
    const length = entry('length', Math.max(data.byteLength - offset, 0));
    if (offset + length > data.byteLength) {
      throw new AttributionError(
        'INVALID_MODEL',
        `initializer "${tensor.name}": external data at offset ${offset} of length ${length} ends past the end of "${location}", ` +
          `which holds ${data.byteLength} bytes`,
      );
    }
    tensor.rawData = data.subarray(offset, offset + length);
    tensor.externalData = [];
    tensor.dataLocation = 0;
  }
}
