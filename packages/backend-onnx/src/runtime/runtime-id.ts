import type { InferenceSession } from 'onnxruntime-common';

/**
 * The runtime id (core's `RUNTIME_IDS`) of an ONNX Runtime module running on
 * the first of `executionProviders`. onnxruntime-node is told from
 * onnxruntime-web by the module itself (`env.versions.node`), since both take
 * the same provider names (`'cpu'`, and `'wasm'` for the web one):
 *
 * - onnxruntime-node: `onnx-node` on its CPU provider (also the default),
 *   `onnx-node-<provider>` on another (e.g. `onnx-node-cuda`);
 * - onnxruntime-web: `onnx-<provider>` (`onnx-wasm`, `onnx-webgpu`,
 *   `onnx-webgl`); its `'cpu'` provider and its default are the wasm one.
 */
export function onnxRuntimeId(ort: unknown, executionProviders: InferenceSession.SessionOptions['executionProviders']): string {
  const first = executionProviders?.[0];
  const provider = typeof first === 'string' ? first : first?.name;
  if (isNodeModule(ort)) return provider === undefined || provider === 'cpu' ? 'onnx-node' : `onnx-node-${provider}`;
  return provider === undefined || provider === 'cpu' ? 'onnx-wasm' : `onnx-${provider}`;
}

function isNodeModule(ort: unknown): boolean {
  const versions = (ort as { env?: { versions?: Record<string, unknown> } }).env?.versions;
  return typeof versions?.['node'] === 'string';
}
