import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { hostTensor } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { uniformValues } from './helpers/check-gradient.js';
import { countingOrt } from './helpers/counting-ort.js';
import { freeSizeCnn } from './helpers/free-size-cnn.js';
import { memoryAfterGc, MiB } from '@saliency/dev-support/process-memory';

/*
 * Built graphs and sessions are cached per input shape in an LRU bounded by
 * their estimated bytes (option cacheBytes): a model with free height and
 * width called on 20 image sizes keeps only the most recent sessions that
 * fit, and `dispose` releases them all, so the resident set returns near its
 * level after the first call.
 *
 * The measurement runs in a child process (this file again, under
 * CHILD_FLAG) whose glibc has a fixed mmap threshold: by default glibc raises
 * that threshold each time a large block is freed, after which freed
 * activations stay in its heap and the RSS after `dispose` measured 13 to 60
 * MiB above the first call's from run to run, whatever the backend held.
 * With the threshold fixed, large blocks go back to the system when freed,
 * and the RSS shows what is held. Measured so (2 cores): with cacheBytes 64
 * MiB, peak 35 MiB over the first call's and −10 MiB after dispose; with no
 * bound (every session kept), peak 360 MiB.
 */

const CHILD_FLAG = 'SALIENCY_SESSION_CACHE_CHILD';
const inChild = process.env[CHILD_FLAG] === '1';

const ort = ortNode as unknown as OnnxRuntimeModule;
/** 20 image sizes, 40² to 116²; batch 8, so that each size's gradient graph plans about 5 to 35 MiB of activations. */
const SIZES = Array.from({ length: 20 }, (_, i) => 40 + 4 * i);
const BATCH = 8;
const CACHE_BYTES = 64 * MiB;

function inputOf(size: number) {
  return hostTensor(Float32Array.from(uniformValues(BATCH * 3 * size * size, size, -1, 1)), [BATCH, 3, size, size]);
}

describe.runIf(inChild)('onnxruntime-node: the session cache is bounded by bytes (child process)', () => {
  it(`20 input sizes with cacheBytes ${CACHE_BYTES / MiB} MiB: RSS bounded, and back near the first call's after dispose`, {
    timeout: 600_000,
  }, async () => {
    const counting = countingOrt(ort);
    const backend = createOnnxBackend(counting.module, freeSizeCnn(), { cacheBytes: CACHE_BYTES });
    const targets = new Int32Array(BATCH).fill(3);
    await backend.gradients(inputOf(SIZES[0]!), targets);
    const first = memoryAfterGc();
    let peak = 0;
    let mostOpen = 0;
    for (const size of SIZES.slice(1)) {
      await backend.gradients(inputOf(size), targets);
      mostOpen = Math.max(mostOpen, counting.open());
      peak = Math.max(peak, memoryAfterGc().rss - first.rss);
    }
    await backend.dispose();
    const after = memoryAfterGc().rss - first.rss;
    console.log(
      `session cache: ${counting.created()} sessions created, at most ${mostOpen} open; RSS over the first call's: ` +
        `peak ${(peak / MiB).toFixed(1)} MiB, after dispose ${(after / MiB).toFixed(1)} MiB`,
    );
    expect(counting.created()).toBe(SIZES.length);
    expect(mostOpen).toBeLessThan(SIZES.length / 2);
    expect(counting.open()).toBe(0);
    // The cache's bound, and the allocator's slack; every session kept measured 360 MiB.
    expect(peak).toBeLessThan(CACHE_BYTES + 32 * MiB);
    expect(after).toBeLessThan(16 * MiB);
  });
});

describe.runIf(!inChild)('onnxruntime-node: the session cache is bounded by bytes', () => {
  it('holds in a child process with a fixed glibc mmap threshold', { timeout: 600_000 }, async () => {
    const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
    const file = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, [vitest, 'run', file], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, [CHILD_FLAG]: '1', GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const summary = output.split('\n').filter((line) => /session cache:|✓|×|FAIL|Error|expected/.test(line));
    console.log(summary.join('\n'));
    expect(code, output).toBe(0);
    expect(output).toContain('session cache: 20 sessions created');
  });
});
