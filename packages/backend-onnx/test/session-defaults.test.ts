import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { hostTensor } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { sessionOptionsWithDefaults } from '../src/runtime/session-defaults.js';
import { mlpFixture } from './helpers/mlp-model.js';

const NO_SPINNING = { session: { intra_op: { allow_spinning: '0' } } };

describe('session option defaults', () => {
  it('turn off the memory pattern and spinning when the caller gives nothing', () => {
    expect(sessionOptionsWithDefaults(undefined)).toEqual({ enableMemPattern: false, extra: NO_SPINNING });
  });

  it('keep every option the caller gives, beside the defaults', () => {
    const options = sessionOptionsWithDefaults({ executionProviders: ['wasm'], extra: { session: { use_env_allocators: '1' } } });
    expect(options).toEqual({
      enableMemPattern: false,
      executionProviders: ['wasm'],
      extra: { session: { use_env_allocators: '1', intra_op: { allow_spinning: '0' } } },
    });
  });

  it("yield to the caller's memory pattern and spinning, in either way of writing the entry", () => {
    expect(sessionOptionsWithDefaults({ enableMemPattern: true }).enableMemPattern).toBe(true);
    for (const extra of [
      { session: { intra_op: { allow_spinning: '1' } } },
      { session: { 'intra_op.allow_spinning': '1' } },
      { 'session.intra_op.allow_spinning': '1' },
    ]) {
      expect(sessionOptionsWithDefaults({ extra }).extra).toEqual(extra);
    }
  });

  it('are accepted by onnxruntime-node, whose runs give the same gradients with and without them', async () => {
    const { bytes } = mlpFixture();
    const x = hostTensor(
      Float32Array.from({ length: 4 * 6 }, (_, i) => Math.sin(i)),
      [4, 6],
    );
    const targets = Int32Array.from([0, 1, 2, 3]);
    const ort = ortNode as unknown as OnnxRuntimeModule;
    const withDefaults = createOnnxBackend(ort, bytes);
    const spinning = createOnnxBackend(ort, bytes, {
      sessionOptions: { enableMemPattern: true, extra: { session: { intra_op: { allow_spinning: '1' } } } },
    });
    try {
      const a = await withDefaults.gradients(x, targets);
      const b = await spinning.gradients(x, targets);
      expect(a.data).toEqual(b.data);
    } finally {
      await withDefaults.dispose();
      await spinning.dispose();
    }
  });
});
