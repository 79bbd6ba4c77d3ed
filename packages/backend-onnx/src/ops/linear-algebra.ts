import type { OpDefinition } from './op-definition.js';

export const LINEAR_ALGEBRA_OPS: readonly OpDefinition[] = [];
