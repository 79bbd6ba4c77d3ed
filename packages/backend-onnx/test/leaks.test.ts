import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { explain, hostTensor } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { uniformValues } from './helpers/check-gradient.js';
import { countingOrt } from './helpers/counting-ort.js';
import { mlpFixture } from './helpers/mlp-model.js';
import { memoryAfterGc, MiB } from '@saliency/dev-support/process-memory';

/*
 * 1000 calls leave the process as they found it: sessions are created once
 * per input shape and all released by dispose, and the live JS heap and the
 * resident set (which holds ONNX Runtime's native and wasm memory) stay flat
 * after a warm-up, within the bounds below.
 */

/**
 * Growth of the resident set over 800 calls, per runtime. onnxruntime-node's
 * stays within a few MiB. onnxruntime-web's wasm runtime grows its RSS by
 * 10–20 KiB a call on average, in steps, and gives some back at times (for
 * 4000 calls: +65 MiB, with the JS heap, heapTotal and external memory flat
 * and every session released), which is V8 tiering up the wasm code and the
 * wasm heap reaching its high-water mark rather than anything held per call:
 * over 800 calls it measured 50 to 105 MiB from run to run, not growing with
 * the number of calls. Its bound sits above that spread; sessions are counted
 * exactly above, and the JS heap bound catches 5 KiB a call.
 */
const RUNTIMES: Array<[string, OnnxRuntimeModule, object, number]> = [
  ['onnxruntime-node', ortNode as unknown as OnnxRuntimeModule, {}, 32 * MiB],
  ['onnxruntime-web (wasm)', ortWeb as unknown as OnnxRuntimeModule, { executionProviders: ['wasm'] }, 160 * MiB],
];

const CALLS = 1000;
const WARM_UP = 200;
/** Growth of the live JS heap over 800 calls: catches a leak of 5 KiB per call. */
const HEAP_BOUND = 4 * MiB;

describe.each(RUNTIMES)('%s: 1000 calls leak nothing', (_, ort, sessionOptions, RSS_BOUND) => {
  const { bytes } = mlpFixture();
  // Three batch sizes, so that calls alternate between cached sessions.
  const inputs = [1, 2, 3].map((batch) => hostTensor(Float32Array.from(uniformValues(batch * 6, batch, -1, 1)), [batch, 6]));

  it(`${CALLS} explain calls: sessions once per shape, all released; heap and RSS flat`, { timeout: 60_000 }, async () => {
    const counting = countingOrt(ort);
    const backend = createOnnxBackend(counting.module, bytes, { sessionOptions });
    let before = memoryAfterGc();
    for (let call = 0; call < CALLS; call++) {
      if (call === WARM_UP) before = memoryAfterGc();
      await explain(backend, 'vargrad', inputs[call % 3]!, { numSamples: 4, batchSize: 8, seed: call });
    }
    const after = memoryAfterGc();
    // Forward sessions for [1|2|3, 6]; moments sessions for the call shapes
    // [4, 6] (one example's 4 samples) and [8, 6] (two examples'): no more.
    expect(counting.created()).toBe(5);
    await backend.dispose();
    expect(counting.open()).toBe(0);
    const growth = { heapUsed: after.heapUsed - before.heapUsed, rss: after.rss - before.rss };
    console.log(
      `${_}: heap growth ${(growth.heapUsed / MiB).toFixed(2)} MiB, RSS growth ${(growth.rss / MiB).toFixed(2)} MiB over ${CALLS - WARM_UP} calls`,
    );
    expect(growth.heapUsed).toBeLessThan(HEAP_BOUND);
    expect(growth.rss).toBeLessThan(RSS_BOUND);
  });

  it(`${CALLS / 5} backends created, used and disposed: every session released`, { timeout: 60_000 }, async () => {
    const counting = countingOrt(ort);
    let before = memoryAfterGc();
    for (let i = 0; i < CALLS / 5; i++) {
      if (i === WARM_UP / 5) before = memoryAfterGc();
      const backend = createOnnxBackend(counting.module, bytes, { sessionOptions });
      await explain(backend, 'gradient', inputs[i % 3]!);
      await backend.dispose();
    }
    expect(counting.created()).toBe((2 * CALLS) / 5);
    expect(counting.open()).toBe(0);
    const after = memoryAfterGc();
    console.log(
      `${_}: ${CALLS / 5} backends: heap growth ${((after.heapUsed - before.heapUsed) / MiB).toFixed(2)} MiB, RSS growth ${((after.rss - before.rss) / MiB).toFixed(2)} MiB`,
    );
    expect(after.heapUsed - before.heapUsed).toBeLessThan(HEAP_BOUND);
    expect(after.rss - before.rss).toBeLessThan(RSS_BOUND);
  });
});
