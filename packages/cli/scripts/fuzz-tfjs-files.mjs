#!/usr/bin/env node
// The TF.js file-level fuzz (test/tfjs-file-fuzz.test.ts) for longer than CI runs it:
//
//   node scripts/fuzz-tfjs-files.mjs [cases] [seed]
//
// cases defaults to 5000 and seed to a new one each time, printed first; a
// failing case is printed with its number: `node scripts/fuzz-tfjs-child.mjs
// <seed> <case> 1` runs it alone. Needs the package built (npm run build).
import { soak } from '@saliency/dev-support/child-fuzz';

const child = new URL('./fuzz-tfjs-child.mjs', import.meta.url).pathname;
process.exitCode = await soak(child, process.argv.slice(2), 'node scripts/fuzz-tfjs-files.mjs');
