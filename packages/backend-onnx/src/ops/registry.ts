import { ACTIVATION_OPS } from './activations.js';
import { CONSTANT_OPS } from './constant-ops.js';
import { CONVOLUTION_OPS } from './convolution.js';
import { CUMSUM_OP } from './cumulative.js';
import { EINSUM_OP } from './einsum.js';
import { ELEMENTWISE_OPS } from './elementwise.js';
import { GATHER_ELEMENTS_OP } from './gather-elements.js';
import { INDEXING_OPS } from './indexing.js';
import { LINEAR_ALGEBRA_OPS } from './linear-algebra.js';
import { NORMALIZATION_OPS } from './normalization.js';
import type { OpDefinition } from './op-definition.js';
import { PAD_OP } from './pad.js';
import { POOLING_OPS } from './pooling.js';
import { RECURRENT_OPS } from './recurrent.js';
import { REDUCTION_OPS } from './reduction.js';
import { RESIZE_OPS } from './resize.js';
import { SHAPE_OPS } from './shape.js';
import { TOP_K_OP } from './top-k.js';
import { TRIGONOMETRIC_OPS } from './trigonometric.js';

/**
 * Every op of the default ONNX domain that the package can infer, fold and
 * differentiate: one table, as PyTorch's derivatives.yaml, one entry per op
 * type. Each family file (one per line here) holds its ops' definitions and
 * imports only the shared helpers (rule-helpers.ts, window.ts, layout.ts,
 * tensor-math.ts, axis-map.ts, scatter.ts, first-extremum.ts), never another family.
 */
const DEFINITIONS: readonly OpDefinition[] = [
  ...ELEMENTWISE_OPS,
  ...ACTIVATION_OPS,
  ...LINEAR_ALGEBRA_OPS,
  ...NORMALIZATION_OPS,
  ...REDUCTION_OPS,
  ...CONVOLUTION_OPS,
  ...POOLING_OPS,
  ...INDEXING_OPS,
  PAD_OP,
  ...CONSTANT_OPS,
  ...SHAPE_OPS,
  GATHER_ELEMENTS_OP,
  ...TRIGONOMETRIC_OPS,
  CUMSUM_OP,
  TOP_K_OP,
  EINSUM_OP,
  ...RESIZE_OPS,
  ...RECURRENT_OPS,
];

/** The definitions by op type; an op type defined twice is a programming error, caught when the package loads. */
export const OPS: ReadonlyMap<string, OpDefinition> = tableOf(DEFINITIONS);

function tableOf(definitions: readonly OpDefinition[]): Map<string, OpDefinition> {
  const table = new Map<string, OpDefinition>();
  for (const op of definitions) {
    if (table.has(op.opType)) throw new Error(`unreachable: op ${op.opType} is defined twice`);
    table.set(op.opType, op);
  }
  return table;
}

/** The supported op types, sorted, for messages. */
export function supportedOps(): string[] {
  return [...OPS.keys()].sort();
}
