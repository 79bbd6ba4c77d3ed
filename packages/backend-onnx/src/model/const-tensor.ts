import { create } from '@bufbuild/protobuf';
import { AttributionError } from '@saliency/core';
import { TensorProtoSchema, type TensorProto } from '../proto/onnx_pb.js';
import { DataType, dataTypeName } from './data-type.js';
import { checkTensorProto } from './validate-tensor.js';

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

/** A tensor's values as read from its TensorProto, possibly a view of its `raw_data` (`readTensorValues`): to read, not to keep or write. */
export interface TensorValues {
  readonly dataType: DataType;
  readonly dims: readonly number[];
  readonly values: ArrayLike<number>;
}

/**
 * Reads a TensorProto's values, from `raw_data` (little-endian) or the typed
 * fields, once `checkTensorProto` has matched its declared size against the
 * data it holds (so nothing is allocated for a size the file does not back).
 */
export function readTensorProto(tensor: TensorProto, where: string): ConstTensor {
  const { dataType, dims, values } = readTensorValues(tensor, where);
  if (values instanceof Float64Array) return { dataType, dims: [...dims], values };
  const copy = new Float64Array(values.length);
  copy.set(values as Int8Array);
  return { dataType, dims: [...dims], values: copy };
}

/**
 * A TensorProto's values without a float64 copy where its `raw_data` holds
 * them as they are (`BULK_READERS`: a typed-array view of it, copied only
 * where unaligned); otherwise read into a Float64Array as `readTensorProto`.
 * For passes that read large weights once (a ResNet-18's 11 M int8 weights).
 */
export function readTensorValues(tensor: TensorProto, where: string): TensorValues {
  const { dataType: type, dims, count, bytesPerElement, source } = checkTensorProto(tensor, where);
  const get = RAW_READERS[type];
  // float16 and bfloat16 are read by model/float16.ts (the upcast pass) only; other types never.
  if (get === undefined) {
    throw new AttributionError(
      'UNSUPPORTED_MODEL',
      `${where}: tensor "${tensor.name}" has element type ${dataTypeName(type)}, which is not supported`,
    );
  }
  if (source !== 'raw') {
    const values = new Float64Array(count);
    const typed: ArrayLike<number | bigint> = tensor[source];
    for (let i = 0; i < count; i++) values[i] = Number(typed[i]);
    return { dataType: type, dims, values };
  }
  const raw = tensor.rawData;
  const bulk = BULK_READERS[type];
  // (Copied where unaligned: `new Uint8Array(raw)`, since a Node Buffer's slice() is a view.)
  if (bulk !== undefined)
    return { dataType: type, dims, values: bulk(raw.byteOffset % bytesPerElement === 0 ? raw : new Uint8Array(raw), count) };
  const values = new Float64Array(count);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < count; i++) values[i] = get(view, i * bytesPerElement);
  return { dataType: type, dims, values };
}

/**
 * Typed-array views of `raw_data` (aligned) for the types whose values they
 * read as they are: bytes in any case, and float32 on a little-endian host
 * (as `writeTensorProto` writes them).
 */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const BULK_READERS: Partial<Record<DataType, (raw: Uint8Array, count: number) => ArrayLike<number>>> = {
  [DataType.INT8]: (raw, count) => new Int8Array(raw.buffer, raw.byteOffset, count),
  [DataType.UINT8]: (raw, count) => new Uint8Array(raw.buffer, raw.byteOffset, count),
  ...(LITTLE_ENDIAN
    ? {
        [DataType.FLOAT]: (raw: Uint8Array, count: number) => new Float32Array(raw.buffer, raw.byteOffset, count),
        [DataType.INT32]: (raw: Uint8Array, count: number) => new Int32Array(raw.buffer, raw.byteOffset, count),
      }
    : {}),
};

/** Little-endian readers of one element of `raw_data`, for the types `checkTensorProto` accepts. */
const RAW_READERS: Partial<Record<DataType, (view: DataView, offset: number) => number>> = {
  [DataType.FLOAT]: (v, o) => v.getFloat32(o, true),
  [DataType.DOUBLE]: (v, o) => v.getFloat64(o, true),
  [DataType.INT64]: (v, o) => Number(v.getBigInt64(o, true)),
  [DataType.UINT64]: (v, o) => Number(v.getBigUint64(o, true)),
  [DataType.INT32]: (v, o) => v.getInt32(o, true),
  [DataType.INT16]: (v, o) => v.getInt16(o, true),
  [DataType.INT8]: (v, o) => v.getInt8(o),
  [DataType.UINT8]: (v, o) => v.getUint8(o),
  [DataType.BOOL]: (v, o) => v.getUint8(o),
};

const INT64_MAX = 2n ** 63n - 1n;

/** Writes a constant as a TensorProto with little-endian `raw_data`. */
export function writeTensorProto(name: string, tensor: ConstTensor): TensorProto {
  const count = tensor.values.length;
  let raw: Uint8Array;
  switch (tensor.dataType) {
    case DataType.FLOAT:
      return float32TensorProto(name, tensor.dims, Float32Array.from(tensor.values));
    case DataType.DOUBLE:
      raw = new Uint8Array(Float64Array.from(tensor.values).buffer);
      break;
    case DataType.INT64:
      // INT64_MAX (an exporter's "to the end" in Slice) reads as 2^63 in float64, which BigInt64Array would wrap to INT64_MIN.
      raw = new Uint8Array(BigInt64Array.from(tensor.values, (v) => (v >= 2 ** 63 ? INT64_MAX : BigInt(Math.trunc(v)))).buffer);
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

/**
 * A float32 TensorProto whose `raw_data` is `values`' bytes in the host's
 * order (little-endian, as for the other types written here), not copied:
 * the proto keeps the array.
 */
export function float32TensorProto(name: string, dims: readonly (number | bigint)[], values: Float32Array): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dims: dims.map((d) => BigInt(d)),
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  });
}
