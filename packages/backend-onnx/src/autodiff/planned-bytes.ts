import { DataType } from '../model/data-type.js';
import type { TensorType } from '../ops/op-definition.js';

/** Bytes per element of the ONNX types a built graph holds; 4 for any other. */
const ELEMENT_BYTES: Partial<Record<DataType, number>> = {
  [DataType.DOUBLE]: 8,
  [DataType.INT64]: 8,
  [DataType.UINT64]: 8,
  [DataType.FLOAT16]: 2,
  [DataType.BFLOAT16]: 2,
  [DataType.INT16]: 2,
  [DataType.UINT16]: 2,
  [DataType.INT8]: 1,
  [DataType.UINT8]: 1,
  [DataType.BOOL]: 1,
};

/**
 * An estimate of the activation memory a built graph plans: the bytes of the
 * forward values it computes, twice over when it also computes their
 * gradients (each activation on the path gets a cotangent of its size; the
 * rules' intermediate values are short-lived). ONNX Runtime's CPU arena keeps
 * the peak of what a run allocated, so a cached session holds about this much
 * besides its weights.
 */
export function plannedActivationBytes(values: Iterable<string>, types: ReadonlyMap<string, TensorType>, withGradient: boolean): number {
  let bytes = 0;
  for (const name of values) {
    const type = types.get(name);
    if (type === undefined) continue;
    bytes += type.shape.reduce((n, d) => n * d, 1) * (ELEMENT_BYTES[type.dataType] ?? 4);
  }
  return withGradient ? 2 * bytes : bytes;
}
