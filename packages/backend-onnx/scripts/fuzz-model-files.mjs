#!/usr/bin/env node
// The file-level fuzz (test/model-file-fuzz.test.ts) for longer than CI runs it:
//
//   node scripts/fuzz-model-files.mjs [cases] [seed]
//
// cases defaults to 5000 and seed to a new one each time, printed first, so
// that a failure can be replayed: the failing case's number, model and
// mutations are printed; `node scripts/file-fuzz/child.mjs <seed> <case> 1`
// runs that case alone. Needs the package built (npm run build).
import { soak } from '@saliency/dev-support/child-fuzz';

const child = new URL('./file-fuzz/child.mjs', import.meta.url).pathname;
process.exitCode = await soak(child, process.argv.slice(2), 'node scripts/fuzz-model-files.mjs');
