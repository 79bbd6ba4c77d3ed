import { philox4x32 } from './philox.js';

const TWO_POW_32 = 4294967296;

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
export function fillStandardNormal(
  out: Float32Array | Float64Array,
  seed: number,
  example: number,
  sample: number,
): void {
  const key: [number, number] = [seed % TWO_POW_32 >>> 0, Math.floor(seed / TWO_POW_32) >>> 0];
  const words = new Uint32Array(4);
  const counter: [number, number, number, number] = [0, sample >>> 0, example >>> 0, 0];
  for (let base = 0; base < out.length; base += 4) {
    counter[0] = base / 4;
    philox4x32(counter, key, words);
    for (let pair = 0; pair < 2; pair++) {
      const a = (words[2 * pair]! + 0.5) / TWO_POW_32;
      const b = (words[2 * pair + 1]! + 0.5) / TWO_POW_32;
      const radius = Math.sqrt(-2 * Math.log(a));
      const angle = 2 * Math.PI * b;
      const e = base + 2 * pair;
      if (e < out.length) out[e] = radius * Math.cos(angle);
      if (e + 1 < out.length) out[e + 1] = radius * Math.sin(angle);
    }
  }
}
