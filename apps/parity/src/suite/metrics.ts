/**
 * How far a backend's map `a` is from a reference map `r` (same length, same
 * layout). All three are computed over the whole map, every example of the
 * batch together, in float64.
 */
export interface MapAgreement {
  /** max_e |a_e − r_e| / max_e |r_e|: the worst element's error on the reference's scale. */
  readonly relativeMaxError: number;
  /** a·r / (‖a‖ ‖r‖); 1 when both maps are zero. */
  readonly cosine: number;
  /** Jaccard index |A ∩ R| / |A ∪ R| of the top 5% elements by magnitude (see `topFractionAgreement`). */
  readonly top5Agreement: number;
}

type Numbers = ArrayLike<number>;

function checkSameLength(a: Numbers, r: Numbers): void {
  if (a.length !== r.length) throw new Error(`maps differ in length: ${a.length} vs reference ${r.length}`);
  if (a.length === 0) throw new Error('maps are empty');
}

/**
 * max_e |a_e − r_e| / max_e |r_e|. A zero reference makes the scale 1, so the
 * value is then the absolute error. A non-finite element in `a` gives Infinity.
 */
export function relativeMaxError(a: Numbers, r: Numbers): number {
  checkSameLength(a, r);
  let error = 0;
  let scale = 0;
  for (let e = 0; e < a.length; e++) {
    const d = Math.abs(a[e]! - r[e]!);
    error = Number.isNaN(d) ? Infinity : Math.max(error, d);
    scale = Math.max(scale, Math.abs(r[e]!));
  }
  return error / (scale > 0 ? scale : 1);
}

/** a·r / (‖a‖ ‖r‖), 1 when both are zero and 0 when only one is. */
export function cosineSimilarity(a: Numbers, r: Numbers): number {
  checkSameLength(a, r);
  let dot = 0;
  let aa = 0;
  let rr = 0;
  for (let e = 0; e < a.length; e++) {
    dot += a[e]! * r[e]!;
    aa += a[e]! * a[e]!;
    rr += r[e]! * r[e]!;
  }
  if (aa === 0 && rr === 0) return 1;
  if (aa === 0 || rr === 0) return 0;
  return dot / Math.sqrt(aa * rr);
}

/**
 * Indices of the k = ⌈fraction · n⌉ elements of largest |value|; ties are
 * broken by the lower index, so the set is well defined.
 */
export function topIndices(values: Numbers, fraction: number): Set<number> {
  const k = Math.max(1, Math.ceil(fraction * values.length));
  const order = Array.from({ length: values.length }, (_, e) => e);
  order.sort((i, j) => Math.abs(values[j]!) - Math.abs(values[i]!) || i - j);
  return new Set(order.slice(0, k));
}

/**
 * Agreement of the "most important pixels": with A and R the top-`fraction`
 * index sets of |a| and |r| (`topIndices`), the Jaccard index |A ∩ R| / |A ∪ R|.
 * 1 when the sets are equal, 0 when disjoint. Near-ties at the set's edge can
 * swap members under float32 rounding, so this is reported, not a pass rule.
 */
export function topFractionAgreement(a: Numbers, r: Numbers, fraction = 0.05): number {
  checkSameLength(a, r);
  const top = topIndices(a, fraction);
  const reference = topIndices(r, fraction);
  let shared = 0;
  for (const e of top) if (reference.has(e)) shared++;
  return shared / (top.size + reference.size - shared);
}

export function agreement(a: Numbers, r: Numbers): MapAgreement {
  return {
    relativeMaxError: relativeMaxError(a, r),
    cosine: cosineSimilarity(a, r),
    top5Agreement: topFractionAgreement(a, r, 0.05),
  };
}
