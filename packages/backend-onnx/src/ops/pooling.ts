import type { OpDefinition } from './op-definition.js';

export const POOLING_OPS: readonly OpDefinition[] = [];
