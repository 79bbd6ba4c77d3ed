import { referenceMethodNames } from '../src/reference/index.js';

/**
 * The method names whose maps come from plain input gradients: what the
 * closed-form backends and `referenceAttribution` compute. Guided Backprop,
 * DeconvNet and Grad-CAM are checked against PyTorch in backend-onnx's tests.
 */
export const INPUT_GRADIENT_METHODS: readonly string[] = referenceMethodNames();
