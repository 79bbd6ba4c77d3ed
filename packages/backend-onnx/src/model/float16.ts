import { AttributionError } from '@saliency/core';
import type { TensorProto } from '../proto/onnx_pb.js';
import { DataType, dataTypeName } from './data-type.js';

/*
 * Reading the 16-bit float types of ONNX tensors. Their values are stored as
 * 2-byte little-endian bit patterns in `raw_data`, or one pattern per entry of
 * `int32_data`; the package computes with them in float32
 * (`passes/upcast-float16.ts`).
 */

/** The IEEE 754 half-precision value of a 16-bit pattern (subnormals, infinities and NaN included). */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** The bfloat16 value of a 16-bit pattern: the upper half of a float32. */
export function bfloat16Value(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, (bits & 0xffff) << 16);
  return view.getFloat32(0);
}

let float16Values: Float32Array | undefined;

/** float16Value of every 16-bit pattern, made on first use (256 KiB). */
function float16Table(): Float32Array {
  float16Values ??= Float32Array.from({ length: 0x10000 }, (_, bits) => float16Value(bits));
  return float16Values;
}

/** Whether a type is one of the 16-bit float types this module reads. */
export function isFloat16Type(type: DataType): boolean {
  return type === DataType.FLOAT16 || type === DataType.BFLOAT16;
}

/**
 * A float16 or bfloat16 tensor's values in float32 (each exact: both types
 * are subsets of float32). `where` names the tensor in errors.
 */
export function readFloat16Tensor(tensor: TensorProto, where: string): Float32Array {
  const type = tensor.dataType as DataType;
  const decode = type === DataType.FLOAT16 ? float16Value : type === DataType.BFLOAT16 ? bfloat16Value : undefined;
  if (decode === undefined) throw new Error(`unreachable: ${where} is ${dataTypeName(type)}, not a 16-bit float`);
  const count = tensor.dims.reduce((n, d) => n * Number(d), 1);
  const raw = tensor.rawData;
  const values = new Float32Array(count);
  if (raw.byteLength > 0) {
    if (raw.byteLength !== 2 * count) {
      throw new AttributionError(
        'UNSUPPORTED_MODEL',
        `${where} has ${raw.byteLength} bytes of data for ${count} ${dataTypeName(type)} values (2 bytes each)`,
      );
    }
    // By table (float16) or by bits (bfloat16): a ResNet-18's 11 M weights decoded one call each took seconds.
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (type === DataType.FLOAT16) {
      const table = float16Table();
      for (let i = 0; i < count; i++) values[i] = table[view.getUint16(2 * i, true)]!;
    } else {
      const words = new Uint32Array(values.buffer);
      for (let i = 0; i < count; i++) words[i] = view.getUint16(2 * i, true) << 16;
    }
  } else {
    if (tensor.int32Data.length !== count) {
      throw new AttributionError(
        'UNSUPPORTED_MODEL',
        `${where} has ${tensor.int32Data.length} ${dataTypeName(type)} values for ${count} elements`,
      );
    }
    for (let i = 0; i < count; i++) values[i] = decode(tensor.int32Data[i]!);
  }
  return values;
}

/** The float16 bit pattern nearest a number (ties to even; overflow to infinity), as ONNX Runtime takes float16 tensors. */
export function float16Bits(value: number): number {
  const word = new Uint32Array(Float32Array.of(value).buffer)[0]!;
  const sign = (word >>> 16) & 0x8000;
  const exponent = (word >>> 23) & 0xff;
  const fraction = word & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (fraction === 0 ? 0 : 0x200);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  // Normal halves drop 13 fraction bits; subnormal ones (halfExponent ≤ 0) more, with the implicit bit.
  const shift = halfExponent > 0 ? 13 : 14 - halfExponent;
  if (shift > 24) return sign;
  const significand = halfExponent > 0 ? fraction : fraction | 0x800000;
  let half = (halfExponent > 0 ? halfExponent << 10 : 0) | (significand >>> shift);
  const rest = significand & ((1 << shift) - 1);
  const midpoint = 1 << (shift - 1);
  // Rounding up may carry into the exponent, which is right (up to infinity).
  if (rest > midpoint || (rest === midpoint && (half & 1) === 1)) half++;
  return sign | half;
}
