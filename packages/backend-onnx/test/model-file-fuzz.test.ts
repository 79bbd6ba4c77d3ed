import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  it(`${CASES} mutations from seed ${SEED}: a map or a coded error, under the memory cap and the time bound`, {
    timeout: 600_000,
  }, async () => {
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

describe('the child runner catches what the fuzz is for', () => {
  const runner = new URL('../../../dev-support/child-fuzz.mjs', import.meta.url).href;
  const dir = mkdtempSync(join(tmpdir(), 'saliency-child-fuzz-'));
  /** A child whose second case does `body`. */
  const child = (name: string, body: string) => {
    const file = join(dir, `${name}.mjs`);
    writeFileSync(
      file,
      `import { runCases } from ${JSON.stringify(runner)};\n` +
        `const [seed, first, count] = process.argv.slice(2).map(Number);\n` +
        `const cases = Array.from({ length: count }, (_, i) => ({ description: 'case ' + i }));\n` +
        `const held = [];\n` +
        `await runCases(seed, first, cases, async ({ description }) => { if (description === 'case 1') { ${body} } return 'map'; });\n`,
    );
    return file;
  };

  it.each([
    ['a TypeError that escapes', 'null.shape;', /^child exited with 1 after 1 of 3 cases, during case 1 case 1\n[\s\S]*TypeError/],
    ['an error with no code', "throw new Error('unreachable');", /during case 1 case 1\n[\s\S]*Error: unreachable/],
    [
      'memory past the RSS cap',
      'for (;;) { held.push(Buffer.alloc(2 ** 24, 1)); await new Promise((r) => setTimeout(r, 1)); }',
      /^RSS \d+ MiB over the cap of 256 MiB during case 1 case 1$/,
    ],
    ['a hang', 'await new Promise(() => setInterval(() => {}, 1000));', /^no progress for 3 s during case 1 case 1$/],
  ])('%s fails the run, naming the case', async (name, body, failure) => {
    const result = await runChildFuzz({
      script: child(name.replace(/\W/g, '-'), body),
      seed: 1,
      cases: 3,
      rssCap: 256 * 2 ** 20,
      caseTimeoutMs: name === 'a hang' ? 3000 : 60_000,
    });
    expect(result.ok).toBe(false);
    expect(result.failure).toMatch(failure);
  });

  it('coded errors and maps pass, and are tallied', async () => {
    const result = await runChildFuzz({
      script: child('coded', "throw Object.assign(new Error('bad'), { name: 'AttributionError', code: 'INVALID_MODEL' });"),
      seed: 1,
      cases: 3,
    });
    expect(result).toMatchObject({ ok: true, cases: 3, tally: { map: 2, INVALID_MODEL: 1 } });
  });
});
