export { createOnnxBackend, OnnxBackend, type OnnxBackendOptions } from './runtime/onnx-backend.js';
export type { OnnxRuntimeModule } from './runtime/onnx-runtime-module.js';
export type { ExecutionProvider } from './execution-provider/execution-provider.js';
export { supportedOps } from './ops/registry.js';
export { DEFAULT_BUDGETS, type ModelBudgets } from './model/budgets.js';
export { logitsDeviation, type LogitsDeviation } from './runtime/logits-deviation.js';
export { describeOnnxModel, type OnnxModelDescription, type OnnxTensorInfo } from './model/describe-model.js';
