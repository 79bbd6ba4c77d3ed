import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, type TensorProto } from '../proto/onnx_pb.js';
import { DataType, dataTypeName } from './data-type.js';

/**
 * A constant tensor held in float64 whatever its ONNX type: initializers,
 * `Constant` nodes and values folded at build time (shape arithmetic). Integer
 * values stay exact up to 2^53, far beyond any shape.
 */
export interface ConstTensor {
  readonly dataType: DataType;
  readonly dims: readonly number[];
  readonly values: Float64Array;
}

export function constTensor(dataType: DataType, dims: readonly number[], values: ArrayLike<number>): ConstTensor {
  return { dataType, dims: [...dims], values: Float64Array.from(values) };
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

/** Reads a TensorProto's values, from `raw_data` (little-endian) or the typed fields. */
export function readTensorProto(tensor: TensorProto, where: string): ConstTensor {
  const dims = tensor.dims.map(Number);
  const count = elementCount(dims);
  const type = tensor.dataType as DataType;
  if (tensor.externalData.length > 0 || tensor.dataLocation === 1) {
    throw new Error(`${where}: tensor "${tensor.name}" keeps its data outside the model file (external data)`);
  }
  const raw = tensor.rawData;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const values = new Float64Array(count);
  const fromRaw = raw.byteLength > 0;
  const read = (bytes: number, get: (offset: number) => number, typed: ArrayLike<number | bigint>) => {
    if (fromRaw) {
      if (raw.byteLength !== count * bytes) {
        throw new Error(`${where}: tensor "${tensor.name}" has ${raw.byteLength} bytes of data for ${count} ${dataTypeName(type)} values`);
      }
      for (let i = 0; i < count; i++) values[i] = get(i * bytes);
    } else {
      if (typed.length !== count) {
        throw new Error(`${where}: tensor "${tensor.name}" has ${typed.length} values for shape [${dims.join(', ')}]`);
      }
      for (let i = 0; i < count; i++) values[i] = Number(typed[i]);
    }
  };
  switch (type) {
    case DataType.FLOAT:
      read(4, (o) => view.getFloat32(o, true), tensor.floatData);
      break;
    case DataType.DOUBLE:
      read(8, (o) => view.getFloat64(o, true), tensor.doubleData);
      break;
    case DataType.INT64:
      read(8, (o) => Number(view.getBigInt64(o, true)), tensor.int64Data);
      break;
    case DataType.UINT64:
      read(8, (o) => Number(view.getBigUint64(o, true)), tensor.uint64Data);
      break;
    case DataType.INT32:
      read(4, (o) => view.getInt32(o, true), tensor.int32Data);
      break;
    case DataType.INT16:
      read(2, (o) => view.getInt16(o, true), tensor.int32Data);
      break;
    case DataType.INT8:
      read(1, (o) => view.getInt8(o), tensor.int32Data);
      break;
    case DataType.UINT8:
    case DataType.BOOL:
      read(1, (o) => view.getUint8(o), tensor.int32Data);
      break;
    default:
      throw new Error(`${where}: tensor "${tensor.name}" has element type ${dataTypeName(type)}, which is not supported`);
  }
  return { dataType: type, dims, values };
}

/** Writes a constant as a TensorProto with little-endian `raw_data`. */
export function writeTensorProto(name: string, tensor: ConstTensor): TensorProto {
  const count = tensor.values.length;
  let raw: Uint8Array;
  switch (tensor.dataType) {
    case DataType.FLOAT:
      raw = new Uint8Array(Float32Array.from(tensor.values).buffer);
      break;
    case DataType.DOUBLE:
      raw = new Uint8Array(Float64Array.from(tensor.values).buffer);
      break;
    case DataType.INT64:
      raw = new Uint8Array(BigInt64Array.from(tensor.values, (v) => BigInt(Math.trunc(v))).buffer);
      break;
    case DataType.INT32:
      raw = new Uint8Array(Int32Array.from(tensor.values).buffer);
      break;
    case DataType.BOOL:
    case DataType.UINT8:
      raw = Uint8Array.from(tensor.values);
      break;
    default:
      throw new Error(`cannot write a constant of element type ${dataTypeName(tensor.dataType)}`);
  }
  if (raw.byteLength === 0 && count > 0) throw new Error('unreachable: empty raw data');
  return create(TensorProtoSchema, {
    name,
    dims: tensor.dims.map((d) => BigInt(d)),
    dataType: tensor.dataType,
    rawData: raw,
  });
}
