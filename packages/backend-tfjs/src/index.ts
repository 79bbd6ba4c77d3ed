export { createTfjsBackend, TfjsBackend, type TfjsBackendOptions } from './tfjs-backend.js';
export type { SoftmaxHandling } from './logits-function.js';
export type {
  GraphModelLike,
  GraphTensorInfoLike,
  LayerLike,
  LayersModelLike,
  ModelFunction,
  SymbolicTensorLike,
  TfjsModel,
} from './model-types.js';
export { MissingGradientError } from './gradient-registration.js';
export { firstMaxPoolGradient, type MaxPoolAttrs } from './first-max-pool-gradient.js';
export { withGradientRules } from './gradient-rules.js';
export { modelArtifacts } from './model-artifacts.js';
export { deviceNoiseKind, philoxWordsOnDevice, standardNormalsOnDevice, type DeviceNoiseKind } from './device-noise/programs.js';
export { deviceNoiseAgreement, type DeviceNoiseAgreement } from './device-noise/agreement.js';
