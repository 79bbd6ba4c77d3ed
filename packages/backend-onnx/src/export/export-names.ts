import { LOGITS_OUTPUT } from '../autodiff/build-gradient-model.js';

/**
 * The names of an exported attribution model's own inputs and outputs
 * (besides the model's input, which keeps its name). They share the
 * gradient builder's prefix, which no model value uses.
 */
export const NOISE_INPUT = 'saliency/noise';
export const TARGET_INPUT = 'saliency/target';
export const MAP_OUTPUT = 'saliency/map';
export const TARGET_OUTPUT = 'saliency/explained_class';
export { LOGITS_OUTPUT };
