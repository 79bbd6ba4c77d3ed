export { type FeedTensor, type HostTensor, hostTensor, sizeOf, formatShape } from './tensor.js';
export { perTokenMaps, type TokenReduction } from './token-maps.js';
export { AttributionError, describeValue, type AttributionErrorCode } from './errors.js';
export { parseNpy, parseNpyTensor, encodeNpy, isIntegerDtype, NPY_DTYPES, type NpyArray, type NpyDtype, type NpyTensor } from './npy.js';
export type { GradientBackend, GradientMoments, GradientRequest, LayerGradients, RowGradients } from './backend.js';
export {
  checkGroupSize,
  checkNoiseDescription,
  checkTargetCount,
  disposedError,
  oneHotRows,
  softmaxOption,
  type SoftmaxHandling,
} from './backend-contract.js';
export {
  checkOutputPosition,
  describeOutputPosition,
  outputPositionHint,
  type OutputPosition,
} from './output-position.js';
export { explain } from './explain.js';
export { Attribution } from './classes/attribution.js';
export { Gradient, GradientXInput, GradientXSign, GradientXInputXSign } from './classes/gradient.js';
export {
  SmoothGrad,
  SmoothGradXInput,
  SmoothGradXSign,
  SmoothGradXInputXSign,
  SmoothGradSquared,
} from './classes/smoothgrad.js';
export { VarGrad, VarGradXInput, VarGradXSign, VarGradXInputXSign } from './classes/vargrad.js';
export {
  IntegratedGradients,
  IntegratedGradientsXInput,
  IntegratedGradientsXSign,
  IntegratedGradientsXInputXSign,
} from './classes/integrated-gradients.js';
export { parseMethodName, isSignedMethod, type BaseMethod, type MethodName, type Modifiers } from './methods/method-name.js';
export { registerMethod, methodRule, METHOD_NAMES, BASE_METHODS } from './methods/registry.js';
export type { MethodRule, RowKind, ElementMoments, RuleOptions, LayerRule } from './methods/rule.js';
export { gradCamMaps } from './methods/grad-cam.js';
export {
  parseLrpRuleSet,
  isInputRule,
  runsBackward,
  LRP_RULE_SET_FAMILY,
  type LrpRuleSet,
  type LrpLayerRule,
  type LrpInputRule,
} from './methods/lrp.js';
export { resizeLinear } from './methods/linear-resize.js';
export { VARIANCE_ZERO_THRESHOLD } from './methods/vargrad.js';
export {
  DEFAULTS,
  MAX_NUM_SAMPLES,
  OPTION_KEYS,
  resolveOptions,
  type AttributionOptions,
  type Progress,
  type ResolvedOptions,
} from './engine/options.js';
export { fillStandardNormal } from './noise/gaussian-noise.js';
export { philox4x32 } from './noise/philox.js';
export { noiseKey, noisyRows, type NoiseDescription } from './noise/noise-description.js';
export { deviceNoiseAgreement, type DeviceNoiseAgreement, type DeviceNoiseGenerator } from './noise/device-agreement.js';
export { WGSL_NORMAL, WGSL_PHILOX } from './noise/wgsl-noise.js';
export { BOX_MULLER_CONSTANTS, PHILOX_CONSTANTS, shaderFloat, shaderUint } from './noise/noise-constants.js';
export type { NoiseFunction, NoiseInput } from './noise/noise-source.js';
export { MomentAccumulator } from './stats/moments.js';
export { RUNTIME_IDS, isRuntimeId, runtimeLibrary, runtimeIdsOf, type RuntimeId, type RuntimeLibrary } from './runtime-id.js';
export { momentsOfGroups } from './stats/group-moments.js';
