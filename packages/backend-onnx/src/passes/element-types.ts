import { AttributionError } from '@saliency/core';
import { DataType, dataTypeName } from '../model/data-type.js';
import { AttributeProto_AttributeType as AttributeType, type ModelProto } from '../proto/onnx_pb.js';

/** The element types of constant tensors the package reads (`model/const-tensor.ts`), after the passes. */
const READABLE = new Set<DataType>([
  DataType.FLOAT,
  DataType.DOUBLE,
  DataType.INT64,
  DataType.UINT64,
  DataType.INT32,
  DataType.INT16,
  DataType.INT8,
  DataType.UINT8,
  DataType.BOOL,
]);

/**
 * Refuses, when the backend is created, a model holding a constant tensor
 * (initializer, or tensor attribute of a node) of an element type the package
 * cannot compute with, e.g. float8 or 4-bit integers, naming the tensor, its
 * type and the types allowed. float16 and bfloat16 never reach this check:
 * `upcast-float16.ts` has made them float32.
 */
export function checkElementTypes(model: ModelProto): void {
  const graph = model.graph!;
  const allowed = `${[...READABLE].map(dataTypeName).join(', ')}, and float16 and bfloat16 (computed in float32)`;
  const refuse = (what: string, type: number): never => {
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `${what} has element type ${dataTypeName(type)}, which this package cannot compute with; supported are ${allowed}`,
    );
  };
  for (const tensor of graph.initializer) if (!READABLE.has(tensor.dataType)) refuse(`initializer "${tensor.name}"`, tensor.dataType);
  graph.node.forEach((node, index) => {
    for (const attribute of node.attribute) {
      if (attribute.type !== AttributeType.TENSOR || attribute.t === undefined || READABLE.has(attribute.t.dataType)) continue;
      refuse(`attribute ${attribute.name} of ${node.opType} node ${node.name ? `"${node.name}"` : `#${index}`}`, attribute.t.dataType);
    }
  });
}
