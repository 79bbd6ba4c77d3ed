/**
 * The prefix of every value and node name the gradient builder makes, so that
 * its nodes are told from the model's own (the WebGL check says whose node it
 * refuses).
 */
export const EMITTED_PREFIX = 'saliency/';
