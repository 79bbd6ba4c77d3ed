import { DEFAULTS, parseMethodName, type BaseMethod } from '@saliency/core';

/** One sentence per base method: what its map shows. */
const BASE_NOTES: Record<BaseMethod, string> = {
  gradient: "The gradient: how much a small change of each pixel changes the class's logit, with its sign; noisy on real models.",
  smoothgrad:
    'SmoothGrad: the gradient averaged over noisy copies of the image, a less noisy signed map of what raises or lowers the logit.',
  smoothgrad_squared: 'SmoothGrad²: the mean squared gradient over noisy copies, how strongly each pixel matters whatever the direction.',
  vargrad:
    "VarGrad: how much the gradient varies over noisy copies of the image, where the model's reading is most sensitive; on a digit it also lights the background where added ink would change the class.",
  integrated_gradients:
    "Integrated Gradients: each pixel's share of the change of the logit from a baseline input of zeros to this image; the shares add up to that change.",
};

/** The method's sentence, with what its modifiers add. */
export function methodNote(method: string): string {
  const { base, modifiers } = parseMethodName(method);
  const parts = [BASE_NOTES[base]];
  if (modifiers.input) parts.push('Multiplied by the input, so pixels without signal count less.');
  if (modifiers.sign)
    parts.push(`Multiplied by the input's sign (−1 below μ = ${modifiers.mu}, +1 elsewhere), which keeps dark pixels' weight.`);
  return parts.join(' ');
}

/** Which count a method takes: noisy samples, path steps, or neither; with the CLI's defaults (core's `DEFAULTS`). */
export function methodCounts(method: string): { samples: boolean; steps: boolean } {
  const { base } = parseMethodName(method);
  return { samples: base === 'smoothgrad' || base === 'smoothgrad_squared' || base === 'vargrad', steps: base === 'integrated_gradients' };
}

export const DEFAULT_COUNTS = { numSamples: DEFAULTS.numSamples, steps: DEFAULTS.steps, noiseScale: DEFAULTS.noiseScale } as const;
