import type { OpDefinition } from './op-definition.js';

export const ACTIVATION_OPS: readonly OpDefinition[] = [];
