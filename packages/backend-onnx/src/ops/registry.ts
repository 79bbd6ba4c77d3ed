import type { OpDefinition } from './op-definition.js';
import { ACTIVATION_OPS } from './activations.js';
import { CONVOLUTION_OPS } from './convolution.js';
import { CUMSUM_OP } from './cumulative.js';
import { EINSUM_OP } from './einsum.js';
import { ELEMENTWISE_OPS } from './elementwise.js';
import { LINEAR_ALGEBRA_OPS } from './linear-algebra.js';
import { NORMALIZATION_OPS } from './normalization.js';
import { POOLING_OPS } from './pooling.js';
import { RECURRENT_OPS } from './recurrent.js';
import { REDUCTION_OPS } from './reduction.js';
import { RESIZE_OPS } from './resize.js';
import { SHAPE_OPS } from './shape.js';
import { TOP_K_OP } from './top-k.js';
import { TRIGONOMETRIC_OPS } from './trigonometric.js';

/**
 * Every op of the default ONNX domain that the package can infer, fold and
 * differentiate, by op type: one table, as PyTorch's derivatives.yaml.
 */
export const OPS: ReadonlyMap<string, OpDefinition> = new Map(
  [
    ...ELEMENTWISE_OPS,
    ...ACTIVATION_OPS,
    ...LINEAR_ALGEBRA_OPS,
    ...NORMALIZATION_OPS,
    ...REDUCTION_OPS,
    ...CONVOLUTION_OPS,
    ...POOLING_OPS,
    ...SHAPE_OPS,
    ...TRIGONOMETRIC_OPS,
    CUMSUM_OP,
    TOP_K_OP,
    EINSUM_OP,
    ...RESIZE_OPS,
    ...RECURRENT_OPS,
  ].map((op) => [op.opType, op]),
);

/** The supported op types, sorted, for messages. */
export function supportedOps(): string[] {
  return [...OPS.keys()].sort();
}
