import { METHOD_NAMES, methodRule, parseMethodName } from '../src/index.js';

/**
 * The method names whose maps come from plain input gradients: what the
 * closed-form backends and `referenceAttribution` compute. Guided Backprop,
 * DeconvNet (a modified backward pass) and Grad-CAM (layer gradients) are
 * checked against PyTorch in backend-onnx's tests.
 */
export const INPUT_GRADIENT_METHODS: readonly string[] = METHOD_NAMES.filter((name) => {
  const rule = methodRule(parseMethodName(name).base);
  return rule.backward === undefined && rule.layer === undefined;
});
