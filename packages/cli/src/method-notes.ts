import { DEFAULTS, parseMethodName } from '@saliency/core';

/**
 * What one model row of a method's run is, and how many there are for one
 * example: noisy samples (SmoothGrad, SmoothGrad², VarGrad), path steps
 * (Integrated Gradients), or the one input (plain gradient methods).
 */
export function progressUnits(method: string, numSamples: number | undefined, steps: number | undefined): { unit: string; total: number } {
  const { base } = parseMethodName(method);
  if (base === 'smoothgrad' || base === 'smoothgrad_squared' || base === 'vargrad')
    return { unit: 'samples', total: numSamples ?? DEFAULTS.numSamples };
  if (base === 'integrated_gradients') return { unit: 'steps', total: steps ?? DEFAULTS.steps };
  return { unit: 'rows', total: 1 };
}

/**
 * A warning for a run that is allowed but almost certainly not meant: VarGrad
 * of one sample is the variance of one value, a map of zeros; SmoothGrad² of
 * one sample is one noisy squared gradient, nothing smoothed (docs/methods.md).
 */
export function sampleCountWarning(method: string, numSamples: number | undefined): string | undefined {
  if (numSamples !== 1) return undefined;
  const { base } = parseMethodName(method);
  if (base === 'vargrad')
    return `warning: ${method} with 1 sample is the variance of one value: the map is all zeros; give --num-samples 2 or more (default ${DEFAULTS.numSamples})`;
  if (base === 'smoothgrad_squared')
    return `warning: ${method} with 1 sample is one noisy squared gradient, nothing is averaged; give --num-samples 2 or more (default ${DEFAULTS.numSamples})`;
  return undefined;
}
