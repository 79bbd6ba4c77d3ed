import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { hostTensor, RUNTIME_IDS } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { mlpFixture } from './helpers/mlp-model.js';

const node = ortNode as unknown as OnnxRuntimeModule;
const web = ortWeb as unknown as OnnxRuntimeModule;

describe('the backend name is the runtime id', () => {
  it('tells onnxruntime-node from onnxruntime-web by the module, whatever the provider is called', () => {
    const { bytes } = mlpFixture();
    const named = (ort: OnnxRuntimeModule, executionProviders?: string[]) =>
      createOnnxBackend(ort, bytes, executionProviders === undefined ? {} : { sessionOptions: { executionProviders } }).name;
    expect(named(node)).toBe('onnx-node');
    expect(named(node, ['cpu'])).toBe('onnx-node');
    expect(named(node, ['cuda'])).toBe('onnx-node-cuda');
    expect(named(web)).toBe('onnx-wasm');
    expect(named(web, ['wasm'])).toBe('onnx-wasm');
    expect(named(web, ['cpu'])).toBe('onnx-wasm');
    expect(named(web, ['webgpu'])).toBe('onnx-webgpu');
    expect(named(web, ['webgl'])).toBe('onnx-webgl');
    for (const id of ['onnx-node', 'onnx-wasm', 'onnx-webgpu', 'onnx-webgl']) expect(RUNTIME_IDS).toContain(id);
  });

  it('names a disposed backend in its error by the runtime id', async () => {
    const backend = createOnnxBackend(node, mlpFixture().bytes);
    await backend.dispose();
    await expect(backend.logits(hostTensor(new Float32Array(6), [1, 6]))).rejects.toThrow(/^onnx-node: the backend was disposed/);
  });
});
