import type { OpDefinition } from './op-definition.js';

export const REDUCTION_OPS: readonly OpDefinition[] = [];
