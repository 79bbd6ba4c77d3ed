import { beforeAll, describe, expect, it } from 'vitest';
import { explain } from '@saliency/core';
import { createTfjsBackend } from '../src/index.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';
import { memoryAfterGc, MiB } from '@saliency/dev-support/process-memory';
import { cnnSpec, layersModel, mlpSpec, randomInput } from './helpers/test-models.js';

/*
 * 1000 calls leave TF.js and the process as they found them: the same live
 * tensors and bytes (exactly), and the live JS heap and resident set (which
 * holds the wasm backend's memory) flat after a warm-up, within the bounds below.
 */

const CALLS = 1000;
const WARM_UP = 200;
/** Growth of the live JS heap over 800 calls: catches a leak of 5 KiB per call. */
const HEAP_BOUND = 4 * MiB;
/** Growth of the resident set over 800 calls: allocator noise is a few MiB; one leaked [8, 6] gradient per call would be 150 KiB, with its tensor objects more. */
const RSS_BOUND = 32 * MiB;

describe.each(BACKENDS)('%s: 1000 calls leak nothing', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it.each([
    ['MLP', mlpSpec(), 'vargrad_x_sign'],
    ['CNN', cnnSpec('a'), 'smoothgrad'],
  ] as const)(`${CALLS} explain calls on a %s: tensors, bytes, heap and RSS flat`, { timeout: 60_000 }, async (_, spec, method) => {
    const backend = createTfjsBackend(layersModel(spec));
    const inputs = [1, 2, 3].map((rows) => randomInput(spec, rows, rows));
    let tensors = tf.memory();
    let before = memoryAfterGc();
    for (let call = 0; call < CALLS; call++) {
      if (call === WARM_UP) {
        tensors = tf.memory();
        before = memoryAfterGc();
      }
      await explain(backend, method, inputs[call % 3]!, { numSamples: 4, batchSize: 8, seed: call });
    }
    const after = memoryAfterGc();
    expect(tf.memory().numTensors).toBe(tensors.numTensors);
    expect(tf.memory().numBytes).toBe(tensors.numBytes);
    console.log(
      `tfjs-${backendName} ${_}: ${tf.memory().numTensors} live tensors; heap growth ${((after.heapUsed - before.heapUsed) / MiB).toFixed(2)} MiB, ` +
        `RSS growth ${((after.rss - before.rss) / MiB).toFixed(2)} MiB over ${CALLS - WARM_UP} calls`,
    );
    expect(after.heapUsed - before.heapUsed).toBeLessThan(HEAP_BOUND);
    expect(after.rss - before.rss).toBeLessThan(RSS_BOUND);
    backend.dispose();
  });
});
