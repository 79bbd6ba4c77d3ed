/**
 * Running element-wise mean and summed squared deviations (M2) over samples,
 * in float64.
 *
 * Single samples are added with Welford's update
 *   n ← n + 1,  δ = g − mean,  mean ← mean + δ/n,  M2 ← M2 + δ·(g − mean)
 * and whole groups (n_b, mean_b, M2_b), e.g. reduced on a device, are merged
 * with Chan et al.'s formula
 *   n = n_a + n_b,  δ = mean_b − mean_a,
 *   mean = mean_a + δ·n_b/n,  M2 = M2_a + M2_b + δ²·n_a·n_b/n.
 * Neither forms Σg² − n·mean², which cancels catastrophically in float32 and
 * can even turn a variance negative.
 */
export class MomentAccumulator {
  count = 0;
  readonly mean: Float64Array;
  readonly m2: Float64Array;

  constructor(size: number) {
    this.mean = new Float64Array(size);
    this.m2 = new Float64Array(size);
  }

  /** Adds one sample, read from `values` starting at `offset`. */
  add(values: ArrayLike<number>, offset = 0): void {
    this.count += 1;
    const n = this.count;
    const { mean, m2 } = this;
    for (let e = 0; e < mean.length; e++) {
      const g = values[offset + e]!;
      const delta = g - mean[e]!;
      mean[e] = mean[e]! + delta / n;
      m2[e] = m2[e]! + delta * (g - mean[e]!);
    }
  }

  /** Merges a group of `count` samples with the given mean and M2, read at `offset`. */
  merge(count: number, groupMean: ArrayLike<number>, groupM2: ArrayLike<number>, offset = 0): void {
    if (count === 0) return;
    const na = this.count;
    const n = na + count;
    const { mean, m2 } = this;
    for (let e = 0; e < mean.length; e++) {
      const delta = groupMean[offset + e]! - mean[e]!;
      mean[e] = mean[e]! + (delta * count) / n;
      m2[e] = m2[e]! + groupM2[offset + e]! + (delta * delta * na * count) / n;
    }
    this.count = n;
  }

  /** M2/n (population) or M2/(n − 1) (unbiased). */
  variance(unbiased: boolean): Float64Array {
    const divisor = unbiased ? this.count - 1 : this.count;
    return this.m2.map((v) => v / divisor);
  }

  /** The mean of the squares: M2/n + mean². */
  meanOfSquares(): Float64Array {
    return this.m2.map((v, e) => v / this.count + this.mean[e]! ** 2);
  }
}
