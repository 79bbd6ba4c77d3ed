import type { FoldingBudget } from '../model/budgets.js';
import type { ConstTensor } from '../model/const-tensor.js';
import type { TensorType } from '../ops/op-definition.js';

/** What shape inference learned of a graph for one input shape: every value's type, and the values known at build time. */
export interface GraphFacts {
  readonly types: Map<string, TensorType>;
  readonly constants: Map<string, ConstTensor>;
  /** What folding may still materialise (`model/budgets.ts`); the defaults where absent. */
  readonly folding?: FoldingBudget;
}
