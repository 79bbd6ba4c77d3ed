import { VARIANCE_ZERO_THRESHOLD, type AttributionOptions } from '@saliency/core';
import type { LoadedFixture, ModelView } from './fixture.js';

/** The methods every column runs, by core's method names. */
export const METHODS = [
  'gradient',
  'gradient_x_input',
  'gradient_x_sign',
  'smoothgrad',
  'smoothgrad_squared',
  'vargrad',
  'vargrad_x_input',
  'vargrad_x_sign',
  'vargrad_x_input_x_sign',
  'integrated_gradients',
] as const;

export type ParityMethod = (typeof METHODS)[number];

/** The methods whose maps the report draws as heatmaps. */
export const HEATMAP_METHODS: readonly ParityMethod[] = ['gradient', 'vargrad'];

/**
 * The options of a method on one target: the fixture's targets, its noise
 * (in the column's layout, used as is, so every runtime and PyTorch add the
 * very same ε) and its Integrated Gradients step count.
 */
export function optionsFor(method: ParityMethod, fixture: LoadedFixture, view: ModelView): AttributionOptions {
  const options: AttributionOptions = { target: fixture.reference.targets };
  if (method.startsWith('smoothgrad') || method.startsWith('vargrad')) {
    return { ...options, numSamples: fixture.numSamples, noise: view.noise };
  }
  if (method === 'integrated_gradients') return { ...options, steps: fixture.steps };
  return options;
}

/** A reference map in the ONNX layout, in float64, and where it comes from. */
export interface ReferenceMap {
  readonly values: Float64Array;
  readonly source: string;
}

/** s_0(x) = −1 where x < 0, +1 elsewhere (docs/methods.md's sign, μ = 0). */
const sign = (x: number) => (x < 0 ? -1 : 1);

/**
 * The reference of every method from the fixture's PyTorch data, in float64.
 * `gradient`, `smoothgrad`, `vargrad` and `integrated_gradients` are PyTorch
 * autograd's; the others follow from them by the formulas of docs/methods.md:
 *
 *   gradient_x_input = x ⊙ g            gradient_x_sign = g ⊙ s(x)
 *   smoothgrad_squared = mean_i g_i² = vargrad + smoothgrad²   (population variance, same noise)
 *   vargrad_x_input = x ⊙ v    vargrad_x_sign = v ⊙ s(x)    vargrad_x_input_x_sign = x ⊙ v ⊙ s(x)
 *
 * with v the VarGrad map after the rule of docs/methods.md, |v| < 1e-10 → 0.
 */
export function referenceMaps(fixture: LoadedFixture): Record<ParityMethod, ReferenceMap> {
  const json = fixture.reference;
  const x = Float64Array.from(json.input);
  const g = Float64Array.from(json.gradient);
  const mean = Float64Array.from(json.smoothgrad.values);
  const variance = Float64Array.from(json.vargrad.values);
  const v = variance.map((value) => (Math.abs(value) < VARIANCE_ZERO_THRESHOLD ? 0 : value));
  const map = (f: (e: number) => number) => Float64Array.from(x, (_, e) => f(e));
  const pytorch = 'PyTorch autograd';
  return {
    gradient: { values: g, source: pytorch },
    gradient_x_input: { values: map((e) => x[e]! * g[e]!), source: 'x ⊙ g from PyTorch' },
    gradient_x_sign: { values: map((e) => g[e]! * sign(x[e]!)), source: 'g ⊙ s(x) from PyTorch' },
    smoothgrad: { values: mean, source: pytorch },
    smoothgrad_squared: { values: map((e) => variance[e]! + mean[e]! ** 2), source: 'vargrad + smoothgrad² from PyTorch' },
    vargrad: { values: v, source: pytorch },
    vargrad_x_input: { values: map((e) => x[e]! * v[e]!), source: 'x ⊙ vargrad from PyTorch' },
    vargrad_x_sign: { values: map((e) => v[e]! * sign(x[e]!)), source: 'vargrad ⊙ s(x) from PyTorch' },
    vargrad_x_input_x_sign: { values: map((e) => x[e]! * v[e]! * sign(x[e]!)), source: 'x ⊙ vargrad ⊙ s(x) from PyTorch' },
    integrated_gradients: { values: Float64Array.from(json.integrated_gradients.values), source: pytorch },
  };
}
