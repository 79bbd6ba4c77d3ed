export { type HostTensor, hostTensor, sizeOf, formatShape } from './tensor.js';
export { AttributionError, type AttributionErrorCode } from './errors.js';
export { parseNpy, encodeNpy, type NpyArray } from './npy.js';
export type { GradientBackend, GradientMoments } from './backend.js';
export { explain } from './explain.js';
export { Attribution } from './methods/attribution.js';
export { Gradient, GradientXInput, GradientXSign, GradientXInputXSign } from './methods/gradient.js';
export {
  SmoothGrad,
  SmoothGradXInput,
  SmoothGradXSign,
  SmoothGradXInputXSign,
  SmoothGradSquared,
} from './methods/smoothgrad.js';
export { VarGrad, VarGradXInput, VarGradXSign, VarGradXInputXSign } from './methods/vargrad.js';
export {
  IntegratedGradients,
  IntegratedGradientsXInput,
  IntegratedGradientsXSign,
  IntegratedGradientsXInputXSign,
} from './methods/integrated-gradients.js';
export { parseMethodName, METHOD_NAMES, BASE_METHODS, type BaseMethod, type MethodName, type Modifiers } from './methods/method-name.js';
export { DEFAULTS, MAX_NUM_SAMPLES, type AttributionOptions, type Progress } from './methods/options.js';
export { VARIANCE_ZERO_THRESHOLD } from './methods/attribute.js';
export { fillStandardNormal } from './noise/gaussian-noise.js';
export { philox4x32 } from './noise/philox.js';
export type { NoiseFunction, NoiseInput } from './noise/noise-source.js';
export { MomentAccumulator } from './stats/moments.js';
