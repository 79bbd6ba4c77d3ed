import { withoutFilterGradients } from './discarded-filter-gradients.js';
import { withGradientRules } from './gradient-rules.js';
import { withSuppliedKernels } from './supplied-kernels.js';

/**
 * Runs the synchronous gradient computation `compute` with everything this
 * package changes in TF.js for its own pass, and only for that pass: the tie
 * rules (`withGradientRules`), the kernels some backends lack
 * (`withSuppliedKernels`) and, when the model's filters are weights, filter
 * gradients that are never computed (`withoutFilterGradients`).
 */
export function withGradientPass<T>(filtersAreWeights: boolean, compute: () => T): T {
  return withGradientRules(() =>
    withSuppliedKernels(() => (filtersAreWeights ? withoutFilterGradients(compute) : compute())),
  );
}
