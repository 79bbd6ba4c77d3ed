import { methodRule, parseMethodName, VARIANCE_ZERO_THRESHOLD, type AttributionOptions, type MethodRule } from '@saliency/core';
import type { LoadedFixture, ModelView } from './fixture.js';

/** The gradient family's rows, whose references fixtures/make-parity-fixtures.py makes. */
const GRADIENT_METHODS = [
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

/** The rows whose references fixtures/make-xai-references.py makes (modified backward passes, layer methods). */
export const XAI_METHODS = ['guided_backprop', 'deconvnet', 'grad_cam', 'grad_cam_plus_plus', 'grad_cam_timeseries'] as const;
export type XaiMethod = (typeof XAI_METHODS)[number];

/**
 * The LRP rows, one rule set of each kind (ε, αβ, SIGN at the input, a
 * composite), whose references the same script makes by explicit
 * layer-by-layer propagation; few, as every row runs on every target.
 */
export const LRP_METHODS = ['lrp_epsilon_0_1', 'lrp_alpha_1_beta_0', 'lrpsign_epsilon_0_1', 'lrp_epsilon_plus_flat'] as const;
export type LrpMethod = (typeof LRP_METHODS)[number];

/** The methods every column runs, by core's method names, in the report's row order. */
export const METHODS = [...GRADIENT_METHODS, ...XAI_METHODS, ...LRP_METHODS] as const;

export type ParityMethod = (typeof METHODS)[number];

/**
 * The methods whose maps the report draws as heatmaps, where the fixture has
 * a reference for them: one per family (gradient, noisy, modified backward,
 * layer).
 */
export const HEATMAP_METHODS: readonly ParityMethod[] = ['gradient', 'vargrad', 'guided_backprop', 'grad_cam', 'grad_cam_timeseries'];

/** The rule core's registry holds for a method name (its base's). */
export const ruleOf = (method: string): MethodRule => methodRule(parseMethodName(method).base);

/**
 * The options of a method on one target, by the rows its rule runs: the
 * fixture's targets; for noisy samples the fixture's noise (in the column's
 * layout, used as is, so every runtime and PyTorch add the very same ε); for
 * path points its Integrated Gradients step count.
 */
export function optionsFor(method: ParityMethod, fixture: LoadedFixture, view: ModelView): AttributionOptions {
  const options: AttributionOptions = { target: fixture.reference.targets };
  switch (ruleOf(method).rows) {
    case 'noisy-samples':
      return { ...options, numSamples: fixture.numSamples, noise: view.noise };
    case 'path-points':
      return { ...options, steps: fixture.steps };
    case 'input':
      return options;
  }
}

/**
 * The shape of a method's map for an input of `inputShape` (ONNX layout): the
 * input's, or for a layer method (Grad-CAM) one channel at the input's
 * positions, `[B, 1, ...positions]` (docs/methods.md, "Grad-CAM").
 */
export function mapShape(method: string, inputShape: readonly number[]): number[] {
  return ruleOf(method).layer ? [inputShape[0]!, 1, ...inputShape.slice(2)] : [...inputShape];
}

/** A reference map in the ONNX layout, in float64, and where it comes from. */
export interface ReferenceMap {
  readonly values: Float64Array;
  readonly source: string;
}

/** A method that has no meaning on a fixture (Grad-CAM of an MLP), and why. */
export interface NotApplicable {
  readonly notApplicable: string;
}

export const isApplicable = (reference: ReferenceMap | NotApplicable): reference is ReferenceMap => 'values' in reference;

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
export function referenceMaps(fixture: LoadedFixture): Record<ParityMethod, ReferenceMap | NotApplicable> {
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
    ...modifiedBackwardAndLayerMaps(fixture),
  };
}

const LRP_SOURCE = 'PyTorch, layer-by-layer LRP';
const XAI_SOURCES: Record<XaiMethod | LrpMethod, string> = {
  guided_backprop: 'PyTorch, ReLU backward hooked',
  deconvnet: 'PyTorch, ReLU backward hooked',
  grad_cam: 'PyTorch, layer hooks',
  grad_cam_plus_plus: 'PyTorch, layer hooks',
  grad_cam_timeseries: 'PyTorch, layer hooks',
  lrp_epsilon_0_1: LRP_SOURCE,
  lrp_alpha_1_beta_0: LRP_SOURCE,
  lrpsign_epsilon_0_1: LRP_SOURCE,
  lrp_epsilon_plus_flat: LRP_SOURCE,
};

/** The rows from fixtures/xai-reference/<name>.json: a map, or why the method does not apply. */
function modifiedBackwardAndLayerMaps(fixture: LoadedFixture): Record<XaiMethod | LrpMethod, ReferenceMap | NotApplicable> {
  const json = fixture.xaiReference;
  return Object.fromEntries(
    [...XAI_METHODS, ...LRP_METHODS].map((method) => {
      const values = json[method];
      const why = json.notApplicable[method];
      if (values !== undefined) return [method, { values: Float64Array.from(values), source: XAI_SOURCES[method] }];
      if (why !== undefined) return [method, { notApplicable: why }];
      throw new Error(`fixture ${fixture.name}: xai-reference holds neither ${method} nor why it does not apply`);
    }),
  ) as Record<XaiMethod | LrpMethod, ReferenceMap | NotApplicable>;
}
