/**
 * The runtimes a model can run on, one id each: `<library>-<device>`. The
 * same id is the CLI's `--backend`, a backend's `GradientBackend.name`, the
 * playground's runtime choice and a column of the parity report.
 *
 * - `onnx-node`: onnxruntime-node (its CPU execution provider);
 * - `onnx-wasm`, `onnx-webgpu`, `onnx-webgl`: onnxruntime-web on that
 *   execution provider;
 * - `tfjs-cpu`, `tfjs-wasm`, `tfjs-webgl`, `tfjs-webgpu`: TF.js on that backend.
 *
 * A runtime outside this list (onnxruntime-node on CUDA, a TF.js backend
 * registered by a third party) is named the same way, e.g. `onnx-node-cuda`,
 * `tfjs-tensorflow`.
 */
export const RUNTIME_IDS = [
  'onnx-node',
  'onnx-wasm',
  'onnx-webgpu',
  'onnx-webgl',
  'tfjs-cpu',
  'tfjs-wasm',
  'tfjs-webgl',
  'tfjs-webgpu',
] as const;

export type RuntimeId = (typeof RUNTIME_IDS)[number];

/** Which library a runtime belongs to, and so which model format it runs. */
export type RuntimeLibrary = 'onnx' | 'tfjs';

export function isRuntimeId(value: string): value is RuntimeId {
  return (RUNTIME_IDS as readonly string[]).includes(value);
}

/** `'onnx'` for ONNX Runtime's ids, `'tfjs'` for TF.js's. */
export function runtimeLibrary(id: RuntimeId): RuntimeLibrary {
  return id.startsWith('onnx-') ? 'onnx' : 'tfjs';
}

/** The ids of one library, in `RUNTIME_IDS` order. */
export function runtimeIdsOf(library: RuntimeLibrary): RuntimeId[] {
  return RUNTIME_IDS.filter((id) => runtimeLibrary(id) === library);
}
