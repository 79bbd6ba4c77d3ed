import { fileURLToPath } from 'node:url';
import { runChildFuzz } from '@saliency/dev-support/child-fuzz';
import { describe, expect, it } from 'vitest';

/*
 * File-level fuzz of TF.js model loading: the bundled example's model.json
 * and weight file with the weights manifest or the file mutated (dims made
 * huge, negative or fractional, dtypes and quantization changed, weights
 * duplicated, dropped or reordered, the file cut, extended or bit-flipped),
 * each loaded as the command loads it and given one gradient call, in a
 * child with a V8 heap cap, an RSS watchdog and a per-case time bound
 * (scripts/fuzz-tfjs-child.mjs). Only a map or a coded error is acceptable:
 * an AttributionError, or a one-line CliError that wraps no RangeError or
 * TypeError. `node scripts/fuzz-tfjs-files.mjs [cases] [seed]` soaks.
 */

const CASES = Number(process.env.FILE_FUZZ_CASES ?? 200);
const SEED = Number(process.env.FILE_FUZZ_SEED ?? 20261205);
const RSS_CAP = 1024 * 2 ** 20;
const CHILD = fileURLToPath(new URL('../scripts/fuzz-tfjs-child.mjs', import.meta.url));

describe('mutated TF.js model files', () => {
  it(`${CASES} mutations from seed ${SEED}: a map or a coded error, under the memory cap and the time bound`, {
    timeout: 600_000,
  }, async () => {
    const result = await runChildFuzz({ script: CHILD, seed: SEED, cases: CASES, rssCap: RSS_CAP, caseTimeoutMs: 60_000 });
    console.log(
      `tfjs file fuzz: seed ${result.seed}, ${result.cases} of ${CASES} cases, peak RSS ${Math.round(result.peakRss / 2 ** 20)} MiB ` +
        `(cap ${RSS_CAP / 2 ** 20} MiB), outcomes ${JSON.stringify(result.tally)}`,
    );
    expect(result.failure).toBeUndefined();
    expect(result.cases).toBe(CASES);
    expect(result.tally.map).toBeGreaterThan(0);
    expect(result.tally.INVALID_MODEL).toBeGreaterThan(0);
  });
});
