import { AttributionError } from '@saliency/core';
import type { TensorProto } from '../proto/onnx_pb.js';
import { DataType, dataTypeName } from './data-type.js';

/** The element types this package reads: bytes per element in `raw_data`, and the typed field that holds them otherwise. */
const LAYOUT: Partial<Record<DataType, { bytes: number; field: 'floatData' | 'doubleData' | 'int64Data' | 'uint64Data' | 'int32Data' }>> = {
  [DataType.FLOAT]: { bytes: 4, field: 'floatData' },
  [DataType.DOUBLE]: { bytes: 8, field: 'doubleData' },
  [DataType.INT64]: { bytes: 8, field: 'int64Data' },
  [DataType.UINT64]: { bytes: 8, field: 'uint64Data' },
  [DataType.INT32]: { bytes: 4, field: 'int32Data' },
  [DataType.INT16]: { bytes: 2, field: 'int32Data' },
  [DataType.INT8]: { bytes: 1, field: 'int32Data' },
  [DataType.UINT8]: { bytes: 1, field: 'int32Data' },
  [DataType.BOOL]: { bytes: 1, field: 'int32Data' },
  // Read by passes/upcast-float16.ts, which makes them float32.
  [DataType.FLOAT16]: { bytes: 2, field: 'int32Data' },
  [DataType.BFLOAT16]: { bytes: 2, field: 'int32Data' },
};

/** Where a checked tensor's values are: `raw_data`, or a typed field of `count` entries. */
export interface TensorLayout {
  readonly dataType: DataType;
  readonly dims: number[];
  readonly count: number;
  readonly bytesPerElement: number;
  readonly source: 'raw' | 'floatData' | 'doubleData' | 'int64Data' | 'uint64Data' | 'int32Data';
}

function invalid(message: string): never {
  throw new AttributionError('INVALID_MODEL', message);
}

/**
 * Checks, before anything is allocated for it, that a tensor of the model is
 * what it declares: non-negative integer dims whose product is a safe
 * integer, a known element type, and exactly count × element size bytes of
 * `raw_data` (or count entries of its typed field). A tensor whose data is
 * still external is refused too: `readOnnxModel` resolves external data.
 */
export function checkTensorProto(tensor: TensorProto, where: string): TensorLayout {
  const label = `${where}: tensor "${tensor.name}"`;
  const dims = tensor.dims.map((d, axis) => {
    const n = Number(d);
    if (!Number.isSafeInteger(n) || n < 0) invalid(`${label} declares dimension ${axis} as ${String(d)}; a dimension is an integer ≥ 0`);
    return n;
  });
  let count = 1;
  for (const d of dims) count *= d;
  if (!Number.isSafeInteger(count)) invalid(`${label} declares shape [${dims.join(', ')}], whose element count is past 2^53`);
  const type = tensor.dataType as DataType;
  if (DataType[type] === undefined || type === DataType.UNDEFINED)
    invalid(`${label} declares element type ${type}, which is not an ONNX element type`);
  if (tensor.externalData.length > 0 || tensor.dataLocation === 1) {
    throw new AttributionError('UNSUPPORTED_MODEL', `${label} keeps its data outside the model file (external data)`);
  }
  const layout = LAYOUT[type];
  // A type the package never reads (complex, string, float8, ...): nothing is
  // allocated for it, and passes/element-types.ts refuses it, listing the types allowed.
  if (layout === undefined) return { dataType: type, dims, count, bytesPerElement: 0, source: 'raw' };
  const declared = `${count.toLocaleString('en-US')} ${dataTypeName(type)} values (shape [${dims.join(', ')}])`;
  if (tensor.rawData.byteLength > 0) {
    const needed = count * layout.bytes;
    if (tensor.rawData.byteLength !== needed) {
      invalid(
        `${label} declares ${declared}, ${needed.toLocaleString('en-US')} bytes, but holds ${tensor.rawData.byteLength.toLocaleString('en-US')} bytes of data`,
      );
    }
    return { dataType: type, dims, count, bytesPerElement: layout.bytes, source: 'raw' };
  }
  const held = tensor[layout.field].length;
  if (held !== count) invalid(`${label} declares ${declared} but holds ${held.toLocaleString('en-US')} values in ${layout.field}`);
  return { dataType: type, dims, count, bytesPerElement: layout.bytes, source: layout.field };
}
