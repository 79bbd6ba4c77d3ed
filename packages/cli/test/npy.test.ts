import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../src/npy.js';
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

  it('refuses what it does not support, naming it', () => {
    const paths = { be: join(dir, 'be.npy'), int: join(dir, 'int.npy'), fortran: join(dir, 'f.npy') };
    python(
      'import numpy as np\n' +
        `np.save(${JSON.stringify(paths.be)}, np.zeros(3, dtype='>f4'))\n` +
        `np.save(${JSON.stringify(paths.int)}, np.zeros(3, dtype='<i4'))\n` +
        `np.save(${JSON.stringify(paths.fortran)}, np.asfortranarray(np.zeros((2, 3), dtype='<f4')))\n`,
    );
    expect(() => readNpy(readFileSync(paths.be), 'be.npy')).toThrow(/be\.npy: dtype >f4 is not supported/);
    expect(() => readNpy(readFileSync(paths.int), 'int.npy')).toThrow(/dtype <i4 is not supported/);
    expect(() => readNpy(readFileSync(paths.fortran), 'f.npy')).toThrow(/Fortran-order arrays are not supported/);
    expect(() => readNpy(new TextEncoder().encode('hello, not numpy'), 'x')).toThrow(/x is not a \.npy file/);
    const truncated = writeNpy(Float32Array.of(1, 2, 3), [3]).subarray(0, -4);
    expect(() => readNpy(truncated, 't')).toThrow(/needs 12 bytes of data; the file has 8/);
  });
});
