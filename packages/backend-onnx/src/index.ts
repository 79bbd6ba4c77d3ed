export { createOnnxBackend, OnnxBackend, type OnnxBackendOptions } from './runtime/onnx-backend.js';
export type { OutputPosition } from '@saliency/core';
export type { OnnxRuntimeModule } from './runtime/onnx-runtime-module.js';
export type { ExecutionProvider } from './execution-provider/execution-provider.js';
export { supportedOps } from './ops/registry.js';
export { exportAttributionModel, type ExportedModel, type ExportedTensor } from './export/export-model.js';
export type { ExportOptions } from './export/export-options.js';
export type { NoiseSource } from './export/rows-in-graph.js';
export { NOISE_INPUT, TARGET_INPUT, MAP_OUTPUT, LOGITS_OUTPUT, TARGET_OUTPUT } from './export/export-names.js';
export { EXPORTABLE_METHODS } from './export/rule-in-graph.js';
export { DEFAULT_BUDGETS, type ModelBudgets } from './model/budgets.js';
export { logitsDeviation, type LogitsDeviation } from './runtime/logits-deviation.js';
export { deviceNoiseAgreement } from './runtime/device-noise.js';
export { describeOnnxModel, type OnnxModelDescription, type OnnxTensorInfo } from './model/describe-model.js';
export {
  attributableTensors,
  type AttributableTensor,
  type AttributableTensors,
  type AttributableTensorsOptions,
} from './autodiff/attributable-tensors.js';
