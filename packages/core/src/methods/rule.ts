import type { HostTensor } from '../tensor.js';

/**
 * Which model rows a method runs per example (docs/methods.md, "Methods"):
 *
 * - `'input'`: one row, the example itself;
 * - `'noisy-samples'`: `numSamples` rows `x + ε_i`, with ε from the seeded
 *   generator (σ from `noiseScale` or `noiseLevel`) or the `noise` option;
 * - `'path-points'`: `steps` rows `x' + (k/m)(x − x')`, k = 1..m, on the
 *   straight path from the baseline `x'` to `x`.
 */
export type RowKind = 'input' | 'noisy-samples' | 'path-points';

/**
 * What the rows of one example leave at one element: their number `count`,
 * the mean `mean` of their input gradients and the summed squared deviations
 * `m2 = Σ_i (g_i − mean)²`. A backend may reduce the rows to these on its
 * device, so a rule sees its rows only through them.
 */
export interface ElementMoments {
  readonly count: number;
  readonly mean: number;
  readonly m2: number;
}

/** The options a rule's reduction reads, after defaults and checks. */
export interface RuleOptions {
  /** Divide a variance by N − 1 instead of N. */
  readonly unbiased: boolean;
}

/**
 * The whole definition of one base method: which rows it runs, how its rows'
 * gradients reduce to one value per element, what that value becomes, and
 * whether the map can be negative. The engine, the float64 reference, the
 * method-name grammar and the CLI's colour choice all read it; nothing else
 * knows a method by name. Register one with `registerMethod`.
 */
export interface MethodRule {
  /** The base name in the method-name grammar, e.g. `vargrad`: lower case, digits and `_`. */
  readonly name: string;
  readonly rows: RowKind;
  /** Whether the `_x_input`, `_x_sign` and `_x_input_x_sign` modifiers apply to it. */
  readonly takesModifiers: boolean;
  /**
   * Whether the map can hold negative values before modifiers (a map that
   * cannot is drawn with a sequential colormap).
   */
  readonly signed: boolean;
  /** One example's value at one element from its rows' gradient moments. */
  reduce(moments: ElementMoments, options: RuleOptions): number;
  /**
   * What the reduced value becomes at an element whose input is `x` and
   * whose path starts at `baseline` (0 unless the rows are path points).
   * Default: the value as it is.
   */
  finish?(value: number, x: number, baseline: number): number;
  /**
   * The fewest rows per example the reduction is defined for under these
   * options, with the reason shown in the error (e.g. unbiased VarGrad: 2,
   * ' with unbiased: true (it divides by N − 1)'). Default: 1.
   */
  minimumRows?(options: RuleOptions): { readonly rows: number; readonly why: string } | undefined;
  /**
   * The modified backward pass whose "gradients" the rule reduces (e.g.
   * `guided_backprop`; docs/methods.md, "Modified backward rules"), which
   * the backend must list in `backwardRuleSets`. Only with `rows: 'input'`.
   */
  readonly backward?: string;
  /**
   * A layer method (Grad-CAM): the map from a layer's activation and
   * gradient (`LayerGradients`) instead of input gradients; `rows` is then
   * `'input'` and `reduce` is not read.
   */
  readonly layer?: LayerRule;
}

/** How a layer method turns one chunk's layer activation and gradient into maps for the input batch of shape `inputShape`. */
export interface LayerRule {
  /** How many axes follow the channel axis in the layers it takes: 2 for images, 1 for time series. */
  readonly positionAxes: number;
  map(activation: HostTensor, gradient: HostTensor, inputShape: readonly number[]): HostTensor;
}

/** The rule's value at one element: its reduction of the rows' moments, then its `finish`. */
export function ruleValue(rule: MethodRule, moments: ElementMoments, options: RuleOptions, x: number, baseline: number): number {
  const value = rule.reduce(moments, options);
  return rule.finish === undefined ? value : rule.finish(value, x, baseline);
}
