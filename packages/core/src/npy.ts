import { AttributionError } from './errors.js';

/** A tensor read from a `.npy` file, as float32. */
export interface NpyArray {
  readonly data: Float32Array;
  readonly shape: number[];
  /** The file's dtype, `<f4` or `<f8`. */
  readonly dtype: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/**
 * Reads NumPy's `.npy` format (versions 1.0, 2.0, 3.0): the magic string,
 * a version, a header length (2 bytes in 1.0, 4 after), and a Python dict
 * literal `{'descr': '<f4', 'fortran_order': False, 'shape': (12, 128), }`,
 * then the raw data. Supported: little-endian float32 (`<f4`) and float64
 * (`<f8`, converted to float32), C order. Anything else is refused with an
 * `AttributionError` (`INVALID_INPUT`) naming it. `name` is used in messages.
 * Pure code on bytes: it runs in browsers (an uploaded file) and in Node.
 */
export function parseNpy(bytes: Uint8Array, name = 'the .npy file'): NpyArray {
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
  if (descr !== '<f4' && descr !== '<f8') {
    throw new AttributionError(
      'INVALID_INPUT',
      `${name}: dtype ${descr} is not supported; save the array as little-endian float32 or float64 (e.g. np.save(path, x.astype('<f4')))`,
    );
  }
  if (fortran === 'True') {
    throw new AttributionError('INVALID_INPUT', `${name}: Fortran-order arrays are not supported; save np.ascontiguousarray(x)`);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const itemSize = descr === '<f4' ? 4 : 8;
  const dataStart = headerStart + headerLength;
  if (bytes.length - dataStart !== count * itemSize) {
    throw new AttributionError(
      'INVALID_INPUT',
      `${name}: shape (${shape.join(', ')}) needs ${count * itemSize} bytes of data; the file has ${bytes.length - dataStart}`,
    );
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    data[i] = itemSize === 4 ? view.getFloat32(dataStart + 4 * i, true) : view.getFloat64(dataStart + 8 * i, true);
  }
  return { data, shape, dtype: descr };
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
