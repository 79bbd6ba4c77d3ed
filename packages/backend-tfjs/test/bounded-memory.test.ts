import { beforeAll, describe, expect, it } from 'vitest';
import { explain } from '@saliency/core';
import { createTfjsBackend } from '../src/index.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';
import { memoryAfterGc, MiB } from '@saliency/dev-support/process-memory';
import { cnnSpec, layersModel, randomInput } from './helpers/test-models.js';

/*
 * VarGrad with N samples runs them in calls of batchSize rows and keeps only
 * running moments per example, so its memory does not grow with N: TF.js's
 * peak tensor bytes are the same for N = 256 and N = 4096 (one call's worth),
 * and the peak live heap and resident set differ by less than the bounds below.
 */

/** Holding the N = 4096 noisy samples of one 6×6×2 example would take 1.2 MiB as data alone, their gradients as much again. */
const HEAP_BOUND = 1 * MiB;
const RSS_BOUND = 8 * MiB;

describe.each(BACKENDS)('%s: VarGrad memory does not grow with N', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it('N = 256 and N = 4096 (batchSize 64): the same peak tensor bytes; heap and RSS within the bounds', { timeout: 300_000 }, async () => {
    const backend = createTfjsBackend(layersModel(cnnSpec('a')));
    const x = randomInput(cnnSpec('a'), 2, 4);
    const run = (numSamples: number, onProgress?: () => void) =>
      explain(backend, 'vargrad', x, { numSamples, batchSize: 64, ...(onProgress ? { onProgress } : {}) });
    /** Peak growth of the live heap and resident set over a run, sampled after every 4th call (a collection each time). */
    const processPeak = async (numSamples: number) => {
      const base = memoryAfterGc();
      const peak = { heapUsed: 0, rss: 0 };
      let calls = 0;
      await run(numSamples, () => {
        if (calls++ % 4 !== 0) return;
        const now = memoryAfterGc();
        peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed - base.heapUsed);
        peak.rss = Math.max(peak.rss, now.rss - base.rss);
      });
      return peak;
    };
    // TF.js's own account of the largest bytes alive at once (a separate run: profiling keeps records on the heap).
    const tensorPeak = async (numSamples: number) => {
      const profile = await tf.profile(async () => {
        await run(numSamples);
      });
      return { peakBytes: profile.peakBytes, newTensors: profile.newTensors };
    };
    await processPeak(4096); // warm-up: kernels, and the wasm backend's memory at its largest
    const small = { ...(await processPeak(256)), ...(await tensorPeak(256)) };
    const large = { ...(await processPeak(4096)), ...(await tensorPeak(4096)) };
    console.log(`tfjs-${backendName}: N=256 ${JSON.stringify(small)}; N=4096 ${JSON.stringify(large)}`);
    expect(large.peakBytes).toBe(small.peakBytes);
    expect(large.newTensors).toBe(0);
    expect(large.heapUsed - small.heapUsed).toBeLessThan(HEAP_BOUND);
    expect(large.rss - small.rss).toBeLessThan(RSS_BOUND);
    backend.dispose();
  });
});
