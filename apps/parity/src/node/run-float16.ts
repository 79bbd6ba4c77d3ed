/**
 * The float16 cells (docs/methods.md, "Precision") alone, in headless
 * Chromium on ONNX Runtime's WebGPU EP: the gradient and VarGrad maps with
 * `precision: 'float16'` against float32 and PyTorch, `n/a` where the
 * adapter lacks shader-f16. `npm run parity` runs them too. Writes
 * out/float16.json, prints the cells, exits 1 when one is in error.
 *
 *   node dist/node/run-float16.js [--fixtures mlp,cnn_bn] [--out DIR] [--no-build]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatFloat16 } from '../suite/float16-cells.js';
import { presentFixtures } from './fixture-files.js';
import { runFloat16InChromium } from './float16-browser.js';
import { buildPage, withParityChromium } from './run-browser-suite.js';

const { values: args } = parseArgs({
  options: {
    fixtures: { type: 'string', default: 'mlp,cnn_bn' },
    out: { type: 'string', default: 'out' },
    'no-build': { type: 'boolean', default: false },
  },
});

const present = await presentFixtures();
const names = args.fixtures.split(',').filter((name) => present.includes(name));
if (!args['no-build']) await buildPage();
const result = await withParityChromium((context, pageUrl) => runFloat16InChromium(context, pageUrl, names));
const out = resolve(args.out);
await mkdir(out, { recursive: true });
await writeFile(resolve(out, 'float16.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(formatFloat16(result));
process.exitCode = result.cells.some((cell) => cell.status === 'error') ? 1 : 0;
