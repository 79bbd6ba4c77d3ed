import { fromBinary } from '@bufbuild/protobuf';
import { AttributionError } from '@saliency/core';
import { ModelProtoSchema, type ModelProto } from '../proto/onnx_pb.js';
import { DEFAULT_BUDGETS, type ModelBudgets } from './budgets.js';
import { checkModelStructure, resolveExternalData } from './check-model.js';

/** The ONNX opsets this package knows the default domain's ops for. */
export const MIN_OPSET = 7;
export const MAX_OPSET = 22;

function refuse(message: string): never {
  throw new AttributionError('UNSUPPORTED_MODEL', message);
}

/**
 * Decodes an ONNX model and checks what the rest of the package relies on: a
 * graph, an opset of the default domain within [MIN_OPSET, MAX_OPSET], and
 * no tensor whose data lives in an external file unless `externalData` holds
 * it (by the `location` the model names); then its node count and subgraph
 * depth against `budgets`, and every tensor's declared size against its data
 * (`check-model.ts`), before any value is read.
 */
export function readOnnxModel(
  bytes: Uint8Array,
  externalData?: ReadonlyMap<string, Uint8Array>,
  budgets: ModelBudgets = DEFAULT_BUDGETS,
): ModelProto {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) refuse('the ONNX model is empty: expected the bytes of a .onnx file');
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (error) {
    refuse(`the bytes are not an ONNX model (${bytes.byteLength} bytes; protobuf decoding failed: ${(error as Error).message})`);
  }
  const graph = model.graph;
  if (graph === undefined || (graph.node.length === 0 && graph.output.length === 0)) {
    refuse(`the bytes decode to no ONNX graph (${bytes.byteLength} bytes); is this a .onnx model file?`);
  }
  const opset = defaultOpset(model);
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    refuse(`the model uses opset ${opset} of the default ONNX domain; supported are opsets ${MIN_OPSET} to ${MAX_OPSET}`);
  }
  resolveExternalData(graph, externalData);
  checkModelStructure(graph, budgets);
  return model;
}

/** The opset version imported for the default domain ('' or 'ai.onnx'). */
export function defaultOpset(model: ModelProto): number {
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (entry === undefined) refuse('the model imports no opset of the default ONNX domain');
  return Number(entry.version);
}
