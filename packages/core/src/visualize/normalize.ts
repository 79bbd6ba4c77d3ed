/**
 * The `p`-th percentile of `values` with linear interpolation between the two
 * nearest ranks, as NumPy's `np.percentile(values, p)` (method "linear"):
 * with `a` sorted ascending and `r = (p / 100) · (n − 1)`,
 *
 *   P_p = a[⌊r⌋] + (r − ⌊r⌋) · (a[⌈r⌉] − a[⌊r⌋]).
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be in [0, 100]; got ${p}`);
  if (values.length === 0) throw new RangeError('percentile: no values');
  const sorted = Float64Array.from(values).sort();
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (rank - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Options of the normalisations below. */
export interface NormalizeOptions {
  /** Percentile of |R| that becomes ±1; larger values are clipped. Default 99. */
  readonly percentile?: number;
  /**
   * The clipping level `c` itself, instead of a percentile of this map: maps
   * drawn with one level share one colour scale (e.g. every backend's map on
   * the reference's scale). Must be > 0.
   */
  readonly level?: number;
}

function levelOf(map: ArrayLike<number>, options: NormalizeOptions): number {
  if (options.level === undefined) return clipLevel(map, options.percentile ?? 99);
  if (!(options.level > 0 && Number.isFinite(options.level)))
    throw new RangeError(`normalize: level must be a finite number > 0; got ${options.level}`);
  return options.level;
}

/** The clipping level `c = P_p(|R|)` of a map. */
export function clipLevel(map: ArrayLike<number>, p = 99): number {
  const magnitudes = Float64Array.from(map, Math.abs);
  return percentile(magnitudes, p);
}

/**
 * SignXAI-style symmetric normalisation of a signed map `R` to [−1, 1]:
 *
 *   c  = P_p(|R|)                 (p = 99 by default, see `percentile`)
 *   R' = clip(R, −c, c) / c
 *
 * One scale for both signs, so that 0 stays 0 and a positive and a negative
 * value of the same size get the same strength. The few largest values (the
 * top 1 %) saturate instead of squeezing everything else towards 0. A map that
 * is 0 wherever it matters (`c = 0`) becomes all zeros.
 */
export function normalizeSymmetric(map: ArrayLike<number>, options: NormalizeOptions = {}): Float32Array {
  const c = levelOf(map, options);
  const out = new Float32Array(map.length);
  if (!(c > 0)) return out;
  for (let i = 0; i < map.length; i++) out[i] = Math.min(1, Math.max(-1, map[i]! / c));
  return out;
}

/**
 * Normalisation of an unsigned map to [0, 1] with the same clipping level:
 * `R' = clip(R, 0, c) / c` with `c = P_p(|R|)`; negative values become 0.
 */
export function normalizeUnsigned(map: ArrayLike<number>, options: NormalizeOptions = {}): Float32Array {
  const c = levelOf(map, options);
  const out = new Float32Array(map.length);
  if (!(c > 0)) return out;
  for (let i = 0; i < map.length; i++) out[i] = Math.min(1, Math.max(0, map[i]! / c));
  return out;
}
