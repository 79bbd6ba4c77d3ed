import { PHILOX_CONSTANTS } from './noise-constants.js';

/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
 * 3", SC 2011): a counter-based generator. Block `counter` under `key` maps
 * to four independent uint32 words, with no state carried between blocks, so
 * any element of any noise sample can be generated on its own, in any order,
 * on any device — which is what makes the noise independent of batching.
 */
const { M0, M1, W0, W1 } = PHILOX_CONSTANTS;
// The multipliers in 16-bit halves, for the high words of the products.
const M0_HI = M0 >>> 16;
const M0_LO = M0 & 0xffff;
const M1_HI = M1 >>> 16;
const M1_LO = M1 & 0xffff;
const TWO_POW_16 = 65536;

/**
 * The high 32 bits of the 64-bit product `a · (mHi·2¹⁶ + mLo)` of a uint32
 * `a`: ⌊(a·mHi + ⌊a·mLo / 2¹⁶⌋) / 2¹⁶⌋, in which every intermediate is an
 * integer below 2⁴⁹, exact in float64; `>>> 0` floors the quotients, both
 * below 2³². No arrays, so the rounds allocate nothing.
 */
function mulhi(a: number, mHi: number, mLo: number): number {
  return ((a * mHi + (((a * mLo) / TWO_POW_16) >>> 0)) / TWO_POW_16) >>> 0;
}

/**
 * Writes the four uint32 words of Philox4x32-10 for the counter words
 * `c0..c3` and the key words `k0, k1` into `out[0..3]`.
 */
export function philox4x32Words(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): void {
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(c0, M0_HI, M0_LO);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(c2, M1_HI, M1_LO);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/**
 * Writes the four uint32 words of Philox4x32-10 for `counter` (four uint32
 * words) and `key` (two uint32 words) into `out`.
 */
export function philox4x32(counter: readonly [number, number, number, number], key: readonly [number, number], out: Uint32Array): void {
  philox4x32Words(counter[0], counter[1], counter[2], counter[3], key[0], key[1], out);
}
