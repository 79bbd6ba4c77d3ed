/**
 * Whether a VarGrad map that misses PyTorch's by more than the tolerance is
 * one noisy sample's kink decision taken the other way, and nothing else.
 *
 * With per-sample gradients g_1..g_N of one example (ours) and the reference's
 * mean m̄ of its own per-sample gradients, a difference confined to one sample
 * s is δ = Σ_n g_n − N·m̄, whatever s is. The map is explained when
 *   - δ is no larger than one flipped decision can make a sample's gradient
 *     (`boundOfδ`, measured in float64 by make-fixtures.py), and
 *   - for some s, the variance of g with g_s − δ in place of g_s is within
 *     `tolerance` of the reference map.
 * Anything spread over several samples, a constant factor or a wrong row of
 * the batch larger than one flip's effect is not explained.
 */
export interface OneFlipCheck {
  /** max |δ| over the examples, relative to max |m̄|. */
  readonly correction: number;
  /** The VarGrad error left after the best one-sample correction, relative to max |reference|. */
  readonly residual: number;
  /** The population variance of the gradients as given, [examples, ...]: what the runtime's VarGrad must equal. */
  readonly uncorrected: Float64Array;
}

export function oneFlipCheck(
  gradients: ArrayLike<number>,
  referenceMean: ArrayLike<number>,
  referenceVargrad: ArrayLike<number>,
  examples: number,
  numSamples: number,
): OneFlipCheck {
  const size = referenceMean.length / examples;
  if (gradients.length !== examples * numSamples * size || referenceVargrad.length !== referenceMean.length) {
    throw new Error(`oneFlipCheck: ${gradients.length} gradient values for ${examples} × ${numSamples} samples of ${size}`);
  }
  const maxAbs = (values: ArrayLike<number>): number => {
    let m = 0;
    for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
    return m;
  };
  const meanScale = maxAbs(referenceMean);
  const vargradScale = maxAbs(referenceVargrad);
  const uncorrected = new Float64Array(referenceMean.length);
  let correction = 0;
  let residual = 0;
  for (let b = 0; b < examples; b++) {
    const sample = (n: number, i: number): number => gradients[(b * numSamples + n) * size + i]!;
    const delta = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      let sum = 0;
      for (let n = 0; n < numSamples; n++) sum += sample(n, i);
      delta[i] = sum - numSamples * referenceMean[b * size + i]!;
    }
    correction = Math.max(correction, maxAbs(delta) / meanScale);
    /** The population variance at element i with sample s (none: −1) corrected by δ. */
    const variance = (i: number, s: number): number => {
      let sum = 0;
      let sumOfSquares = 0;
      for (let n = 0; n < numSamples; n++) {
        const g = sample(n, i) - (n === s ? delta[i]! : 0);
        sum += g;
        sumOfSquares += g * g;
      }
      const mean = sum / numSamples;
      return sumOfSquares / numSamples - mean * mean;
    };
    for (let i = 0; i < size; i++) uncorrected[b * size + i] = variance(i, -1);
    let best = Infinity;
    for (let s = 0; s < numSamples; s++) {
      let error = 0;
      for (let i = 0; i < size; i++) error = Math.max(error, Math.abs(variance(i, s) - referenceVargrad[b * size + i]!));
      best = Math.min(best, error / vargradScale);
    }
    residual = Math.max(residual, best);
  }
  return { correction, residual, uncorrected };
}
