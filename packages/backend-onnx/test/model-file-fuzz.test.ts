import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runChildFuzz } from '@saliency/dev-support/child-fuzz';

/*
 * File-level fuzz: mutated real model files (the bundled MNIST example and
 * the parity fixtures: truncations, bit flips, dims, element types and data
 * lengths changed, nodes duplicated, reordered or dropped, shape values and
 * attributes made huge) through createOnnxBackend and one gradient call, in a
 * child process with a V8 heap cap, an RSS watchdog and a per-case time
 * bound (scripts/file-fuzz/, @saliency/dev-support/child-fuzz). Only a map of the input's shape or a coded
 * AttributionError is acceptable. Needs the package built (the test script
 * builds it). `node scripts/fuzz-model-files.mjs [cases] [seed]` soaks.
 */

const CASES = Number(process.env.FILE_FUZZ_CASES ?? 400);
const SEED = Number(process.env.FILE_FUZZ_SEED ?? 20261205);
const RSS_CAP = 1024 * 2 ** 20;

const CHILD = fileURLToPath(new URL('../scripts/file-fuzz/child.mjs', import.meta.url));

describe('mutated model files', () => {
  it(`${CASES} mutations from seed ${SEED}: a map or a coded error, under the memory cap and the time bound`, { timeout: 600_000 }, async () => {
    const result = await runChildFuzz({ script: CHILD, seed: SEED, cases: CASES, rssCap: RSS_CAP, caseTimeoutMs: 60_000 });
    console.log(
      `file fuzz: seed ${result.seed}, ${result.cases} of ${CASES} cases, peak RSS ${Math.round(result.peakRss / 2 ** 20)} MiB ` +
        `(cap ${RSS_CAP / 2 ** 20} MiB), outcomes ${JSON.stringify(result.tally)}`,
    );
    expect(result.failure).toBeUndefined();
    expect(result.cases).toBe(CASES);
    // The mutations reach every stage: some models still give maps, others are refused for what they are.
    expect(result.tally.map).toBeGreaterThan(0);
    expect(result.tally.INVALID_MODEL).toBeGreaterThan(0);
  });
});
