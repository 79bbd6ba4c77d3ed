#!/usr/bin/env node
// The gradient fuzz test (test/fuzz-gradients.test.ts) for longer than CI runs it:
//
//   node scripts/fuzz-gradients.mjs [runs] [seed]
//
// runs defaults to 20000 (about 8 minutes on 2 cores) and seed to a new one
// each time, printed first, so that a failure can be replayed with the same
// seed. A failure prints the graph as JSON: add it to
// test/helpers/fuzz-regressions.ts once its rule is fixed.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 20000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed)) {
  console.error('usage: node scripts/fuzz-gradients.mjs [runs ≥ 1] [integer seed]');
  process.exit(2);
}
console.log(`fuzzing ${runs} random graphs from seed ${seed}`);
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const result = spawnSync('npx', ['vitest', 'run', 'test/fuzz-gradients.test.ts', '-t', 'random graphs from seed'], {
  cwd: packageRoot,
  stdio: 'inherit',
  env: { ...process.env, FUZZ_RUNS: String(runs), FUZZ_SEED: String(seed) },
});
process.exit(result.status ?? 1);
