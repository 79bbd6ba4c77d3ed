import { TensorProto_DataType as DataType } from '../proto/onnx_pb.js';

export { DataType };

/** The ONNX element types this package computes with, and their names for messages. */
const NAMES: Partial<Record<DataType, string>> = {
  [DataType.FLOAT]: 'float32',
  [DataType.DOUBLE]: 'float64',
  [DataType.FLOAT16]: 'float16',
  [DataType.BFLOAT16]: 'bfloat16',
  [DataType.INT64]: 'int64',
  [DataType.INT32]: 'int32',
  [DataType.INT16]: 'int16',
  [DataType.INT8]: 'int8',
  [DataType.UINT8]: 'uint8',
  [DataType.BOOL]: 'bool',
};

export function dataTypeName(type: DataType): string {
  return NAMES[type] ?? `ONNX type ${type}`;
}

/** Types whose values carry a gradient. */
export function isFloatType(type: DataType): boolean {
  return type === DataType.FLOAT || type === DataType.DOUBLE || type === DataType.FLOAT16 || type === DataType.BFLOAT16;
}
