import type { OpDefinition } from './op-definition.js';

export const CONVOLUTION_OPS: readonly OpDefinition[] = [];
