import { describe, expect, it } from 'vitest';
import { AttributionError, encodeNpy, parseNpy } from '../src/index.js';

// NumPy's own files are read in packages/cli/test/npy.test.ts (written by python3);
// here the bytes of a version 1.0 header are spelled out by hand.

describe('parseNpy', () => {
  it('reads a hand-made file: magic, version 1.0, header length, dict, data', () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    // 10 + 57 + 1 bytes round up to 128, where the data start
    const padded = `${header}${' '.repeat(128 - 10 - header.length - 1)}\n`;
    const bytes = new Uint8Array(10 + padded.length + 8);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length, 0]);
    bytes.set(new TextEncoder().encode(padded), 10);
    new DataView(bytes.buffer).setFloat32(128, 1.5, true);
    new DataView(bytes.buffer).setFloat32(132, -2, true);
    const array = parseNpy(bytes);
    expect(array).toEqual({ data: Float32Array.of(1.5, -2), shape: [2], dtype: '<f4' });
    expect(encodeNpy(array.data, [2])).toEqual(bytes);
  });

  it('refuses other bytes with an INVALID_INPUT AttributionError naming the file', () => {
    try {
      parseNpy(new TextEncoder().encode('lead,I\n1,2\n'), 'ecg.csv');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AttributionError);
      expect((error as AttributionError).code).toBe('INVALID_INPUT');
      expect((error as Error).message).toMatch(/ecg\.csv is not a \.npy file/);
    }
  });
});
