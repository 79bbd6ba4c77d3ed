import type { OpDefinition } from './op-definition.js';

export const NORMALIZATION_OPS: readonly OpDefinition[] = [];
