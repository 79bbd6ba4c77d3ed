import { AttributionError } from './errors.js';
import type { FeedTensor } from './tensor.js';

/** A tensor read from a `.npy` file, as float32. */
export interface NpyArray {
  readonly data: Float32Array;
  readonly shape: number[];
  /** The file's dtype, `<f4` or `<f8`. */
  readonly dtype: string;
}

/**
 * The `.npy` dtypes read, each into the typed array a `FeedTensor` holds:
 * floats, the integer types of token ids (`<i8` as PyTorch and NumPy save
 * them, `<i4`), and bytes for masks (`|u1`, and `|b1`, NumPy's bool: one
 * byte, 0 or 1).
 */
const DTYPES = {
  '<f4': { size: 4, kind: 'float' },
  '<f8': { size: 8, kind: 'float' },
  '<i8': { size: 8, kind: 'integer' },
  '<i4': { size: 4, kind: 'integer' },
  '|u1': { size: 1, kind: 'integer' },
  '|b1': { size: 1, kind: 'bool' },
} as const;

export type NpyDtype = keyof typeof DTYPES;

/** Every dtype `parseNpyTensor` reads, for messages. */
export const NPY_DTYPES = Object.keys(DTYPES) as readonly NpyDtype[];

/**
 * A tensor read from a `.npy` file with its elements as stored: `<f4` as
 * `Float32Array`, `<f8` as `Float64Array`, `<i8` as `BigInt64Array`, `<i4`
 * as `Int32Array`, `|u1` and `|b1` as `Uint8Array`. Without a batch axis
 * added: `shape` is the file's.
 */
export interface NpyTensor extends FeedTensor {
  readonly shape: number[];
  readonly dtype: NpyDtype;
}

/** Whether the elements are integers (or booleans): token ids and masks rather than values to differentiate. */
export function isIntegerDtype(dtype: NpyDtype): boolean {
  return DTYPES[dtype].kind !== 'float';
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/**
 * Reads NumPy's `.npy` format (versions 1.0, 2.0, 3.0): the magic string,
 * a version, a header length (2 bytes in 1.0, 4 after), and a Python dict
 * literal `{'descr': '<f4', 'fortran_order': False, 'shape': (12, 128), }`,
 * then the raw data, in any of `NPY_DTYPES`, C order. Anything else is
 * refused with an `AttributionError` (`INVALID_INPUT`) naming it. `name` is
 * used in messages. Pure code on bytes: it runs in browsers (an uploaded
 * file) and in Node.
 */
export function parseNpyTensor(bytes: Uint8Array, name = 'the .npy file'): NpyTensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new AttributionError('INVALID_INPUT', `${name} is not a .npy file (it does not start with \\x93NUMPY)`);
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new AttributionError(
      'INVALID_INPUT',
      `${name}: .npy format version ${major}.${bytes[7]} is not supported (1.0, 2.0 and 3.0 are)`,
    );
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new AttributionError('INVALID_INPUT', `${name}: cannot read the .npy header ${JSON.stringify(header.trim())}`);
  }
  if (!Object.hasOwn(DTYPES, descr)) {
    throw new AttributionError(
      'INVALID_INPUT',
      `${name}: dtype ${descr} is not supported; save the array as little-endian float32 or float64 (e.g. np.save(path, x.astype('<f4'))), ` +
        `or integers as int64, int32, uint8 or bool (${NPY_DTYPES.join(', ')})`,
    );
  }
  const dtype = descr as NpyDtype;
  if (fortran === 'True') {
    throw new AttributionError('INVALID_INPUT', `${name}: Fortran-order arrays are not supported; save np.ascontiguousarray(x)`);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const itemSize = DTYPES[dtype].size;
  const dataStart = headerStart + headerLength;
  if (bytes.length - dataStart !== count * itemSize) {
    throw new AttributionError(
      'INVALID_INPUT',
      `${name}: shape (${shape.join(', ')}) needs ${count * itemSize} bytes of data; the file has ${bytes.length - dataStart}`,
    );
  }
  return { data: readElements(view, dataStart, count, dtype), shape, dtype };
}

/** The `count` elements from byte `start`, little-endian whatever the host's order (a DataView, not a view of the bytes). */
function readElements(view: DataView, start: number, count: number, dtype: NpyDtype): NpyTensor['data'] {
  switch (dtype) {
    case '<f4':
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(start + 4 * i, true));
    case '<f8':
      return Float64Array.from({ length: count }, (_, i) => view.getFloat64(start + 8 * i, true));
    case '<i8': {
      const data = new BigInt64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getBigInt64(start + 8 * i, true);
      return data;
    }
    case '<i4':
      return Int32Array.from({ length: count }, (_, i) => view.getInt32(start + 4 * i, true));
    case '|u1':
    case '|b1':
      return new Uint8Array(view.buffer.slice(view.byteOffset + start, view.byteOffset + start + count));
  }
}

/**
 * A `.npy` file of floats as float32 (`<f8` rounded), for inputs that are
 * differentiated: `parseNpyTensor`, with integer and boolean files refused
 * naming their dtype.
 */
export function parseNpy(bytes: Uint8Array, name = 'the .npy file'): NpyArray {
  const tensor = parseNpyTensor(bytes, name);
  if (isIntegerDtype(tensor.dtype)) {
    throw new AttributionError(
      'INVALID_INPUT',
      `${name}: dtype ${tensor.dtype} holds integers, not values to differentiate; save the array as little-endian float32 or float64 (e.g. np.save(path, x.astype('<f4')))`,
    );
  }
  const data = tensor.data instanceof Float32Array ? tensor.data : Float32Array.from(tensor.data as Float64Array);
  return { data, shape: tensor.shape, dtype: tensor.dtype };
}

/**
 * Writes a float32 array as a version 1.0 `.npy` file (`<f4`, C order),
 * its header padded with spaces so that the data starts at a multiple of 64
 * bytes, as NumPy writes it.
 */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new AttributionError('INVALID_SHAPE', `encodeNpy: shape [${shape.join(', ')}] holds ${count} values; got ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += `${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + 4 * count);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  for (let i = 0; i < count; i++) view.setFloat32(10 + header.length + 4 * i, data[i]!, true);
  return out;
}
