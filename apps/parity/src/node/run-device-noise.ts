/**
 * The device-noise cells (docs/methods.md, "Noise") alone, in headless
 * Chromium on TF.js webgl and webgpu and ONNX Runtime's WebGPU EP (SwiftShader without a GPU): the
 * device's Philox4x32-10 words against core's bit for bit (4096 words), its
 * normals' largest difference from core's in ulps (3 × 4099), and SmoothGrad
 * and VarGrad with the noise made on the device against the PyTorch
 * references (on TF.js, of the fixtures with flat inputs). `npm run parity` runs them
 * too. Writes out/device-noise.json, prints the cells, exits 1 when one fails.
 *
 *   node dist/node/run-device-noise.js [--fixtures mlp,sigmoid_head] [--runtimes onnx-webgpu,…] [--out DIR] [--no-build]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatDeviceNoise, runDeviceNoiseInChromium } from './device-noise-browser.js';
import { presentFixtures } from './fixture-files.js';
import { DEVICE_NOISE_RUNTIMES, type DeviceNoiseRuntime } from '../suite/device-noise-cells.js';
import { buildPage, withParityChromium } from './run-browser-suite.js';

const { values: args } = parseArgs({
  options: {
    fixtures: { type: 'string', default: 'mlp,sigmoid_head' },
    runtimes: { type: 'string', default: DEVICE_NOISE_RUNTIMES.join(',') },
    out: { type: 'string', default: 'out' },
    'no-build': { type: 'boolean', default: false },
  },
});

const present = await presentFixtures();
const names = args.fixtures.split(',').filter((name) => present.includes(name));
if (!args['no-build']) await buildPage();
const runtimes = args.runtimes.split(',');
const unknown = runtimes.filter((runtime) => !(DEVICE_NOISE_RUNTIMES as readonly string[]).includes(runtime));
if (unknown.length > 0) throw new Error(`unknown --runtimes ${unknown.join(', ')}; known: ${DEVICE_NOISE_RUNTIMES.join(', ')}`);
const results = await withParityChromium((context, pageUrl) =>
  runDeviceNoiseInChromium(context, pageUrl, names, runtimes as DeviceNoiseRuntime[]),
);
const out = resolve(args.out);
await mkdir(out, { recursive: true });
await writeFile(resolve(out, 'device-noise.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(formatDeviceNoise(results));
process.exitCode = results.every((r) => r.status === 'pass') ? 0 : 1;
