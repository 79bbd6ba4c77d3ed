import { describe, expect, it } from 'vitest';
import { isRuntimeId, RUNTIME_IDS, runtimeIdsOf, runtimeLibrary } from '../src/index.js';

describe('runtime ids', () => {
  it('are <library>-<device>, one per runtime', () => {
    expect(RUNTIME_IDS).toEqual([
      'onnx-node',
      'onnx-wasm',
      'onnx-webgpu',
      'onnx-webgl',
      'tfjs-cpu',
      'tfjs-wasm',
      'tfjs-webgl',
      'tfjs-webgpu',
    ]);
    expect(runtimeIdsOf('onnx')).toEqual(['onnx-node', 'onnx-wasm', 'onnx-webgpu', 'onnx-webgl']);
    expect(runtimeIdsOf('tfjs')).toEqual(['tfjs-cpu', 'tfjs-wasm', 'tfjs-webgl', 'tfjs-webgpu']);
    expect(runtimeLibrary('tfjs-wasm')).toBe('tfjs');
    expect(runtimeLibrary('onnx-webgl')).toBe('onnx');
  });

  it('leave out the old names', () => {
    for (const old of ['onnx-default', 'ort-wasm', 'ort-node', 'onnx-cpu', 'tfjs-cpu-node']) expect(isRuntimeId(old)).toBe(false);
    expect(isRuntimeId('onnx-node')).toBe(true);
  });
});
