import { describe, expect, it } from 'vitest';
import { philox4x32 } from '../src/index.js';

const hex = (words: Uint32Array) => [...words].map((w) => w.toString(16).padStart(8, '0')).join(' ');

describe('philox4x32', () => {
  // Known-answer vectors published with the Random123 library (kat_vectors, philox4x32 10 rounds).
  it.each([
    [[0, 0, 0, 0], [0, 0], '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], '408f276d 41c83b0e a20bc7c6 6d5451fd'],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], 'd16cfe09 94fdcceb 5001e420 24126ea1'],
  ] as const)('matches the Random123 known answer for counter %j, key %j', (counter, key, expected) => {
    const out = new Uint32Array(4);
    philox4x32(counter, key, out);
    expect(hex(out)).toBe(expected);
  });
});
