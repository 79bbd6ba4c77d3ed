import { philoxBlocks } from './philox-blocks.js';

const TWO_POW_32 = 4294967296;
const TWO_PI = 2 * Math.PI;

/**
 * Standard normal noise `z(seed, example, sample, e)` for element `e` of
 * sample `sample` of example `example`:
 *
 *   words = Philox4x32-10(counter = [⌊e/4⌋, sample, example, 0],
 *                         key = [seed mod 2³², ⌊seed / 2³²⌋])
 *   u_k   = (words[k] + 0.5) / 2³²                     ∈ (0, 1)
 *   z_{4q}, z_{4q+1} = Box–Muller(u_0, u_1),  z_{4q+2}, z_{4q+3} = Box–Muller(u_2, u_3)
 *   Box–Muller(a, b) = √(−2 ln a) · (cos 2πb, sin 2πb)
 *
 * computed in float64. The value depends on nothing else: not the backend,
 * the batch or chunk size, nor on earlier calls.
 */
export function fillStandardNormal(out: Float32Array | Float64Array, seed: number, example: number, sample: number): void {
  const k0 = (seed % TWO_POW_32) >>> 0;
  const k1 = Math.floor(seed / TWO_POW_32) >>> 0;
  const c1 = sample >>> 0;
  const c2 = example >>> 0;
  const generator = philoxBlocks();
  const { words } = generator;
  const blocks = Math.ceil(out.length / 4);
  for (let first = 0; first < blocks; first += generator.capacity) {
    const count = Math.min(generator.capacity, blocks - first);
    generator.fill(first, count, c1, c2, k0, k1);
    for (let w = 0; w < 4 * count; w += 2) {
      const e = 4 * first + w;
      if (e >= out.length) break; // the last block may hold only 1 to 3 elements of `out`
      boxMuller(out, e, words[w]!, words[w + 1]!);
    }
  }
}

/** Box–Muller of the words a, b into out[e] and, where there is one, out[e + 1]. */
function boxMuller(out: Float32Array | Float64Array, e: number, a: number, b: number): void {
  const radius = Math.sqrt(-2 * Math.log((a + 0.5) / TWO_POW_32));
  const angle = TWO_PI * ((b + 0.5) / TWO_POW_32);
  out[e] = radius * Math.cos(angle);
  if (e + 1 < out.length) out[e + 1] = radius * Math.sin(angle);
}
