import type * as tf from '@tensorflow/tfjs-core';
import { withoutFilterGradients } from './discarded-filter-gradients.js';
import { withGradientRules } from './gradient-rules.js';
import { withSuppliedKernels } from './supplied-kernels.js';

/**
 * Runs the synchronous gradient computation `compute` with everything this
 * package changes in TF.js for its own pass, and only for that pass: the tie
 * rules (`withGradientRules`, with `backward`: a modified backward pass's
 * rules, which win), the kernels some backends lack (`withSuppliedKernels`)
 * and, when the model's filters are weights, filter gradients that are never
 * computed (`withoutFilterGradients`).
 */
export function withGradientPass<T>(filtersAreWeights: boolean, compute: () => T, backward: readonly tf.GradConfig[] = []): T {
  return withGradientRules(() => withSuppliedKernels(() => (filtersAreWeights ? withoutFilterGradients(compute) : compute())), backward);
}
