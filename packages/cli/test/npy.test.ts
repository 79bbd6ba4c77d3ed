import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy, readNpyTensor, writeNpy } from '../src/npy.js';
import { python } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'saliency-npy-'));

describe('.npy', () => {
  it('round-trips float32 data and shape', () => {
    const data = Float32Array.of(1.5, -2.25, 3e-8, 0, 3.4e38, -0.1);
    const back = readNpy(writeNpy(data, [2, 3]));
    expect(back.shape).toEqual([2, 3]);
    expect(back.dtype).toBe('<f4');
    expect([...back.data]).toEqual([...data]);
    expect(readNpy(writeNpy(Float32Array.of(7), [1])).shape).toEqual([1]);
    expect(readNpy(writeNpy(Float32Array.of(7), [])).shape).toEqual([]);
  });

  it('reads files written by NumPy (float32, float64, 1-D, 3-D)', () => {
    const f32 = join(dir, 'f32.npy');
    const f64 = join(dir, 'f64.npy');
    const vec = join(dir, 'vec.npy');
    python(
      'import numpy as np\n' +
        `np.save(${JSON.stringify(f32)}, (np.arange(24, dtype='<f4').reshape(2, 3, 4) - 5) / 4)\n` +
        `np.save(${JSON.stringify(f64)}, np.array([[0.1, -1e-300], [1e300, 2.5]], dtype='<f8'))\n` +
        `np.save(${JSON.stringify(vec)}, np.array([1, 2, 3], dtype='<f4'))\n`,
    );
    const a = readNpy(readFileSync(f32));
    expect(a.shape).toEqual([2, 3, 4]);
    expect([...a.data]).toEqual(Array.from({ length: 24 }, (_, i) => (i - 5) / 4));
    const b = readNpy(readFileSync(f64));
    expect(b.dtype).toBe('<f8');
    expect([...b.data]).toEqual([Math.fround(0.1), -0, Infinity, 2.5]); // float64 → float32 rounding
    expect(readNpy(readFileSync(vec)).shape).toEqual([3]);
  });

  it('writes files that NumPy reads back', () => {
    const path = join(dir, 'ours.npy');
    writeFileSync(path, writeNpy(Float32Array.of(0.5, -1, 2, 4), [2, 2]));
    const out = python(
      `import numpy as np; a = np.load(${JSON.stringify(path)}); print(a.dtype, a.shape, a.flags['C_CONTIGUOUS'], a.tolist())`,
    );
    expect(out.trim()).toBe('float32 (2, 2) True [[0.5, -1.0], [2.0, 4.0]]');
  });

  it('reads integer and boolean files written by NumPy as stored: token ids and masks', () => {
    // Each file's values are printed by NumPy itself, so the expected values come from the file's writer.
    const printed = python(
      'import numpy as np, json\n' +
        `ids = np.array([[101, 2054, -7, 2**62 + 1, 0]], dtype='<i8')\n` +
        `i32 = np.array([[3, -2147483648], [2147483647, 0]], dtype='<i4')\n` +
        `u8 = np.array([0, 1, 255, 7], dtype='|u1')\n` +
        `mask = np.array([[True, True, False]])\n` +
        `f64 = np.array([0.1, 1e300], dtype='<f8')\n` +
        `for name, a in [('ids', ids), ('i32', i32), ('u8', u8), ('mask', mask), ('f64', f64)]:\n` +
        `    np.save(${JSON.stringify(dir)} + '/' + name + '.npy', a)\n` +
        `print(json.dumps({name: [a.dtype.str, list(a.shape), [str(v) for v in a.astype(object).ravel().tolist()]] for name, a in [('ids', ids), ('i32', i32), ('u8', u8), ('mask', mask.astype('u1')), ('f64', f64)]}))\n`,
    );
    const expected = JSON.parse(printed) as Record<string, [string, number[], string[]]>;
    const read = (name: string) => readNpyTensor(readFileSync(join(dir, `${name}.npy`)), `${name}.npy`);
    const ids = read('ids');
    expect(ids.dtype).toBe('<i8');
    expect(ids.data).toBeInstanceOf(BigInt64Array);
    expect(ids.shape).toEqual(expected.ids![1]);
    expect(Array.from(ids.data as BigInt64Array, String)).toEqual(expected.ids![2]);
    const i32 = read('i32');
    expect([i32.dtype, i32.data.constructor]).toEqual(['<i4', Int32Array]);
    expect(i32.shape).toEqual(expected.i32![1]);
    expect(Array.from(i32.data as Int32Array, String)).toEqual(expected.i32![2]);
    const u8 = read('u8');
    expect([u8.dtype, u8.data.constructor]).toEqual(['|u1', Uint8Array]);
    expect(Array.from(u8.data as Uint8Array, String)).toEqual(expected.u8![2]);
    const mask = read('mask');
    expect([mask.dtype, mask.data.constructor]).toEqual(['|b1', Uint8Array]);
    expect(mask.shape).toEqual(expected.mask![1]);
    expect(Array.from(mask.data as Uint8Array, String)).toEqual(expected.mask![2]);
    // floats keep their precision here (readNpy rounds them to float32)
    const f64 = read('f64');
    expect([f64.dtype, f64.data.constructor]).toEqual(['<f8', Float64Array]);
    expect(Array.from(f64.data as Float64Array)).toEqual(expected.f64![2].map(Number));
    expect(Array.from(readNpy(readFileSync(join(dir, 'f64.npy'))).data)).toEqual([Math.fround(0.1), Infinity]);
    // a file of integers is not a float input
    expect(() => readNpy(readFileSync(join(dir, 'ids.npy')), 'ids.npy')).toThrow(/ids\.npy: dtype <i8 holds integers/);
  });

  it('refuses what it does not support, naming it', () => {
    const paths = { be: join(dir, 'be.npy'), int: join(dir, 'int.npy'), fortran: join(dir, 'f.npy') };
    python(
      'import numpy as np\n' +
        `np.save(${JSON.stringify(paths.be)}, np.zeros(3, dtype='>f4'))\n` +
        `np.save(${JSON.stringify(paths.int)}, np.zeros(3, dtype='<u2'))\n` +
        `np.save(${JSON.stringify(paths.fortran)}, np.asfortranarray(np.zeros((2, 3), dtype='<f4')))\n`,
    );
    expect(() => readNpy(readFileSync(paths.be), 'be.npy')).toThrow(/be\.npy: dtype >f4 is not supported/);
    expect(() => readNpy(readFileSync(paths.int), 'int.npy')).toThrow(/dtype <u2 is not supported; .*int64, int32, uint8 or bool/);
    expect(() => readNpy(readFileSync(paths.fortran), 'f.npy')).toThrow(/Fortran-order arrays are not supported/);
    expect(() => readNpy(new TextEncoder().encode('hello, not numpy'), 'x')).toThrow(/x is not a \.npy file/);
    const truncated = writeNpy(Float32Array.of(1, 2, 3), [3]).subarray(0, -4);
    expect(() => readNpy(truncated, 't')).toThrow(/needs 12 bytes of data; the file has 8/);
  });
});
