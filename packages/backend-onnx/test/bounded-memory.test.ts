import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { explain, hostTensor } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { uniformValues } from './helpers/check-gradient.js';
import { node, onnxBytes, valueInfo } from './helpers/onnx-model-builder.js';
import { memoryAfterGc, MiB } from '@saliency/dev-support/process-memory';

/*
 * VarGrad with N samples runs them in calls of batchSize rows and keeps only
 * running moments per example, so its memory does not grow with N: the peak
 * live heap and resident set over a run with N = 4096 exceed those with
 * N = 256 (16 times fewer samples) by less than the bounds below.
 */

/**
 * Bound on the RSS difference, per runtime: holding every run's outputs
 * would add megabytes on onnxruntime-node, whose RSS is otherwise steady.
 * onnxruntime-web's wasm runtime grows its RSS by 10–20 KiB a call in steps
 * whatever the call holds (see leaks.test.ts), so 16 times the calls show as
 * tens of MiB there; its JS heap is what this test can bound tightly.
 */
const RUNTIMES: Array<[string, OnnxRuntimeModule, object, number]> = [
  ['onnxruntime-node', ortNode as unknown as OnnxRuntimeModule, {}, 8 * 1024 * 1024],
  ['onnxruntime-web (wasm)', ortWeb as unknown as OnnxRuntimeModule, { executionProviders: ['wasm'] }, 160 * 1024 * 1024],
];

/** A linear model on 256 features: holding the N = 4096 noisy samples of one example would take 4 MiB, their gradients as much again. */
const FEATURES = 256;
const HEAP_BOUND = 1 * MiB;

function wideModel(): Uint8Array {
  return onnxBytes({
    nodes: [node('MatMul', ['input', 'w'], ['output'])],
    initializers: { w: { dims: [FEATURES, 4], values: uniformValues(FEATURES * 4, 11) } },
    inputs: [valueInfo('input', ['batch', FEATURES])],
    outputs: [valueInfo('output', ['batch', 4])],
  });
}

describe.each(RUNTIMES)('%s: VarGrad memory does not grow with N', (_, ort, sessionOptions, RSS_BOUND) => {
  it('N = 256 and N = 4096 (batchSize 64) peak within the bounds', { timeout: 60_000 }, async () => {
    const backend = createOnnxBackend(ort, wideModel(), { sessionOptions });
    const x = hostTensor(Float32Array.from(uniformValues(2 * FEATURES, 4, -1, 1)), [2, FEATURES]);
    const peakOf = async (numSamples: number) => {
      const base = memoryAfterGc();
      const peak = { heapUsed: 0, rss: 0 };
      let calls = 0;
      await explain(backend, 'vargrad', x, {
        numSamples,
        batchSize: 64,
        // Sampled after every 4th call (a full collection each time, which is slow).
        onProgress: () => {
          if (calls++ % 4 !== 0) return;
          const now = memoryAfterGc();
          peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed - base.heapUsed);
          peak.rss = Math.max(peak.rss, now.rss - base.rss);
        },
      });
      return peak;
    };
    try {
      // Warm-up at the larger N: sessions, and the runtime's arenas (wasm
      // memory grows to the largest it was asked for and never shrinks).
      await peakOf(4096);
      const small = await peakOf(256);
      const large = await peakOf(4096);
      console.log(
        `${_}: peak growth N=256 heap ${(small.heapUsed / MiB).toFixed(3)} MiB rss ${(small.rss / MiB).toFixed(2)} MiB; ` +
          `N=4096 heap ${(large.heapUsed / MiB).toFixed(3)} MiB rss ${(large.rss / MiB).toFixed(2)} MiB`,
      );
      expect(large.heapUsed - small.heapUsed).toBeLessThan(HEAP_BOUND);
      expect(large.rss - small.rss).toBeLessThan(RSS_BOUND);
    } finally {
      await backend.dispose();
    }
  });
});
