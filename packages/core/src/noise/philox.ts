/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
 * 3", SC 2011): a counter-based generator. Block `counter` under `key` maps
 * to four independent uint32 words, with no state carried between blocks, so
 * any element of any noise sample can be generated on its own, in any order,
 * on any device — which is what makes the noise independent of batching.
 */
const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High and low 32 bits of the 64-bit product of two uint32 words. */
function mulhilo(a: number, b: number): [hi: number, lo: number] {
  const lo = Math.imul(a, b) >>> 0;
  // a·b = a·bHi·2^16 + a·bLo; regroup so every intermediate stays exact below 2^53.
  const t = a * (b >>> 16);
  const s = (t % 65536) * 65536 + a * (b & 0xffff);
  const hi = (Math.floor(t / 65536) + Math.floor(s / 4294967296)) >>> 0;
  return [hi, lo];
}

/**
 * Writes the four uint32 words of Philox4x32-10 for `counter` (four uint32
 * words) and `key` (two uint32 words) into `out`.
 */
export function philox4x32(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
  out: Uint32Array,
): void {
  let [c0, c1, c2, c3] = counter;
  let [k0, k1] = key;
  for (let round = 0; round < 10; round++) {
    const [hi0, lo0] = mulhilo(M0, c0);
    const [hi1, lo1] = mulhilo(M1, c2);
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}
