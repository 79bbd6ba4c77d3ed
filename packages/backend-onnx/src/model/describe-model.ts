import { fromBinary } from '@bufbuild/protobuf';
import { AttributionError } from '@saliency/core';
import { type ModelProto, ModelProtoSchema, type ValueInfoProto } from '../proto/onnx_pb.js';
import { dataTypeName, type DataType } from './data-type.js';

/** A graph input or output as a reader sees it: name, element type, shape (a name or null for a free dimension). */
export interface OnnxTensorInfo {
  readonly name: string;
  /** `float32`, `int64`, …; `undefined` for a value that is not a tensor. */
  readonly type: string | undefined;
  readonly shape: ReadonlyArray<number | string | null>;
}

/** What a model file declares, read without running it or loading its external data. */
export interface OnnxModelDescription {
  /** The graph inputs that are not initializers: what a caller feeds. */
  readonly inputs: readonly OnnxTensorInfo[];
  readonly outputs: readonly OnnxTensorInfo[];
  /** The external data files its initializers name (their `location`), each once, in order of first use. */
  readonly externalDataFiles: readonly string[];
}

function tensorInfo(value: ValueInfoProto): OnnxTensorInfo {
  const type = value.type?.value;
  if (type?.case !== 'tensorType') return { name: value.name, type: undefined, shape: [] };
  const shape = (type.value.shape?.dim ?? []).map((d) =>
    d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : null,
  );
  return { name: value.name, type: dataTypeName(type.value.elemType as DataType), shape };
}

/**
 * Reads what an ONNX model declares (inputs, outputs, external data files)
 * from its bytes, without checking that the backend supports it and without
 * its external data: for tools that list a model, or find the data files it
 * needs before `createOnnxBackend` (whose `externalData` option takes them).
 * Bytes that are not an ONNX model are an `AttributionError` (`UNSUPPORTED_MODEL`).
 */
export function describeOnnxModel(bytes: Uint8Array): OnnxModelDescription {
  let graph: ModelProto['graph'];
  try {
    graph = fromBinary(ModelProtoSchema, bytes).graph;
  } catch (error) {
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `the bytes are not an ONNX model (${bytes.byteLength} bytes; protobuf decoding failed: ${(error as Error).message})`,
    );
  }
  if (graph === undefined) throw new AttributionError('UNSUPPORTED_MODEL', `the bytes decode to no ONNX graph (${bytes.byteLength} bytes)`);
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const files = new Set<string>();
  for (const tensor of graph.initializer) {
    const location = tensor.externalData.find((entry) => entry.key === 'location')?.value;
    if (location !== undefined) files.add(location);
  }
  return {
    inputs: graph.input.filter((input) => !initializers.has(input.name)).map(tensorInfo),
    outputs: graph.output.map(tensorInfo),
    externalDataFiles: [...files],
  };
}
