import { create, toBinary } from '@bufbuild/protobuf';
import { attributeProto, type AttributeValue } from '../../src/model/attribute-value.js';
import { constTensor, writeTensorProto } from '../../src/model/const-tensor.js';
import { DataType } from '../../src/model/data-type.js';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  type ModelProto,
  type NodeProto,
  type ValueInfoProto,
} from '../../src/proto/onnx_pb.js';

export { valueInfo } from '../../src/model/value-info.js';

export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: Readonly<Record<string, AttributeValue>> = {},
  name = '',
): NodeProto {
  return create(NodeProtoSchema, {
    opType,
    name,
    input: [...inputs],
    output: [...outputs],
    attribute: Object.entries(attributes).map(([key, value]) => attributeProto(key, value)),
  });
}

export interface ModelSpec {
  readonly nodes: readonly NodeProto[];
  readonly initializers?: Readonly<Record<string, { dims: readonly number[]; values: ArrayLike<number>; dataType?: DataType }>>;
  readonly inputs: readonly ValueInfoProto[];
  readonly outputs: readonly ValueInfoProto[];
  readonly opset?: number;
}

/** An ONNX model from nodes, named initializers and graph inputs and outputs. */
export function onnxModel(spec: ModelSpec): ModelProto {
  return create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(spec.opset ?? 17) })],
    graph: create(GraphProtoSchema, {
      name: 'test',
      node: [...spec.nodes],
      initializer: Object.entries(spec.initializers ?? {}).map(([name, t]) =>
        writeTensorProto(name, constTensor(t.dataType ?? DataType.FLOAT, t.dims, t.values)),
      ),
      input: [...spec.inputs],
      output: [...spec.outputs],
    }),
  });
}

export function onnxBytes(spec: ModelSpec): Uint8Array {
  return toBinary(ModelProtoSchema, onnxModel(spec));
}
