import type { OpDefinition } from './op-definition.js';

export const ELEMENTWISE_OPS: readonly OpDefinition[] = [];
