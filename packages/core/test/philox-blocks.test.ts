import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fillStandardNormal, philox4x32 } from '../src/index.js';
import { javaScriptBlocks, philoxBlocks } from '../src/noise/philox-blocks.js';

const word = fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff), fc.nat({ max: 0xffffffff }));

describe('Philox blocks in bulk', () => {
  it('runs in WebAssembly in Node', () => {
    // The JavaScript rounds are the fallback; Node has WebAssembly, so a slow path here would be a regression.
    expect(philoxBlocks().engine).toBe('webassembly');
  });

  it.each([
    ['WebAssembly', philoxBlocks()],
    ['JavaScript (the fallback)', javaScriptBlocks()],
  ])('gives the words philox4x32 gives, block by block, in %s', (_, generator) => {
    fc.assert(
      fc.property(word, fc.integer({ min: 1, max: 64 }), word, word, word, word, (first, count, c1, c2, k0, k1) => {
        const start = first - Math.max(0, first + count - 2 ** 32); // counters stay uint32
        generator.fill(start, count, c1, c2, k0, k1);
        const expected = new Uint32Array(4);
        for (let q = 0; q < count; q++) {
          philox4x32([start + q, c1, c2, 0], [k0, k1], expected);
          expect([...generator.words.subarray(4 * q, 4 * q + 4)]).toEqual([...expected]);
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** The noise formula of fillStandardNormal's documentation, one block at a time through philox4x32. */
function specNormals(length: number, seed: number, example: number, sample: number): Float32Array {
  const out = new Float32Array(length);
  const words = new Uint32Array(4);
  for (let e = 0; e < length; e++) {
    philox4x32([Math.floor(e / 4), sample, example, 0], [seed % 2 ** 32, Math.floor(seed / 2 ** 32)], words);
    const pair = Math.floor((e % 4) / 2);
    const a = (words[2 * pair]! + 0.5) / 2 ** 32;
    const b = (words[2 * pair + 1]! + 0.5) / 2 ** 32;
    const radius = Math.sqrt(-2 * Math.log(a));
    out[e] = e % 2 === 0 ? radius * Math.cos(2 * Math.PI * b) : radius * Math.sin(2 * Math.PI * b);
  }
  return out;
}

describe('fillStandardNormal over many blocks', () => {
  it('matches the documented formula bit for bit, across the bulk generator’s chunks and in a last partial block', () => {
    const chunk = 4 * philoxBlocks().capacity;
    for (const length of [1, 3, 4, 7, chunk - 1, chunk, chunk + 5, 2 * chunk + 2]) {
      const out = new Float32Array(length);
      fillStandardNormal(out, 2 ** 32 + 11, 3, 9);
      expect(out).toEqual(specNormals(length, 2 ** 32 + 11, 3, 9));
    }
  });
});
