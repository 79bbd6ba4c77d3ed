/** mulberry32: a small seeded generator, so that test models and inputs are fixed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` values uniform in [-scale, scale). */
export function uniform(random: () => number, n: number, scale: number): Float64Array {
  return Float64Array.from({ length: n }, () => (2 * random() - 1) * scale);
}
