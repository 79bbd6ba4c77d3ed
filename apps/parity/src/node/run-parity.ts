/**
 * The parity run: every method on every backend and device, against the
 * fixtures' PyTorch references. Node columns first, then the same suite in
 * headless Chromium; writes out/parity.json and out/parity.html, checks a
 * screenshot of the report, prints the matrix, and exits 1 when a cell is past
 * tolerance, a cell fails with an error that is not a known runtime limit, or
 * the report does not show its heatmaps.
 *
 *   node dist/node/run-parity.js [--fixtures mlp,cnn1d] [--methods logits,grad_cam] [--no-browser] [--no-node]
 *     [--browser-runtimes tfjs-webgl,onnx-webgpu] [--node-webgpu] [--out DIR]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { failures, formatMatrix } from '../suite/matrix.js';
import type { CellResult, SuiteResult } from '../suite/results.js';
import { chooseRows, fixtureInfo } from '../suite/run-suite.js';
import { FIXTURE_NAMES, loadFixtures, presentFixtures } from './fixture-files.js';
import { reportHtml } from './report-html.js';
import { isRuntimeId } from '@saliency/core';
import { CHROMIUM_RUNTIMES } from '../suite/columns.js';
import { buildPage, runBrowserSuite, withParityChromium } from './run-browser-suite.js';
import { DEVICE_NOISE_RUNTIMES, type DeviceNoiseResult } from '../suite/device-noise-cells.js';
import { formatDeviceNoise, runDeviceNoiseInChromium } from './device-noise-browser.js';
import { formatFloat16, type Float16Result } from '../suite/float16-cells.js';
import { runFloat16InChromium } from './float16-browser.js';
import { runNodeSuite } from './run-node-suite.js';
import { checkReportScreenshot } from './screenshot-check.js';

const { values: args } = parseArgs({
  options: {
    fixtures: { type: 'string' },
    methods: { type: 'string' },
    'no-browser': { type: 'boolean', default: false },
    'no-node': { type: 'boolean', default: false },
    'node-webgpu': { type: 'boolean', default: false },
    'browser-runtimes': { type: 'string' },
    out: { type: 'string', default: 'out' },
  },
});

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** Logs each cell that is not a pass, each gap reason once per column. */
const seenGaps = new Set<string>();
const progress = (cell: CellResult) => {
  if (cell.status === 'pass' || cell.status === 'n/a') return;
  const key = `${cell.column} ${cell.gapName ?? ''}`;
  if (cell.status === 'gap' && seenGaps.has(key)) return;
  seenGaps.add(key);
  const what =
    cell.status === 'gap'
      ? `gap (${cell.gapName})`
      : cell.status === 'fail'
        ? `FAIL ${cell.relativeMaxError!.toExponential(2)}`
        : `ERROR ${cell.reason ?? ''}`;
  process.stderr.write(`  ${cell.column} ${cell.fixture}/${cell.row}: ${what}\n`);
};

async function versions(): Promise<Record<string, string>> {
  const tf = await import('@tensorflow/tfjs');
  const ortWeb = await import('onnxruntime-web');
  const ortNode = await import('onnxruntime-node');
  return {
    node: process.version,
    '@tensorflow/tfjs': tf.version.tfjs,
    'onnxruntime-web': ortWeb.env.versions.web ?? '?',
    'onnxruntime-node': ortNode.env.versions.node ?? '?',
  };
}

async function main(): Promise<number> {
  const start = performance.now();
  const present = await presentFixtures();
  const names = args.fixtures
    ? args.fixtures.split(',')
    : [...FIXTURE_NAMES.filter((n) => present.includes(n)), ...present.filter((n) => !(FIXTURE_NAMES as readonly string[]).includes(n))];
  const unknown = names.filter((n) => !present.includes(n));
  if (unknown.length) throw new Error(`no fixture ${unknown.join(', ')}; present: ${present.join(', ')}`);
  const missing = FIXTURE_NAMES.filter((n) => !present.includes(n));
  if (missing.length) process.stderr.write(`warning: fixtures ${missing.join(', ')} are missing; run the fixture script\n`);
  const fixtures = await loadFixtures(names);
  const rows = args.methods ? chooseRows(args.methods.split(',')) : undefined;

  const parts: SuiteResult[] = [];
  let deviceNoise: DeviceNoiseResult[] = [];
  let float16: Float16Result | undefined;
  if (!args['no-node']) {
    process.stderr.write(`Node: ${names.join(', ')}\n`);
    const node = await runNodeSuite(names, { webgpu: args['node-webgpu'], onCell: progress, ...(rows ? { rows } : {}) });
    process.stderr.write(`Node done in ${seconds(node.ms)}\n`);
    parts.push(node);
  }
  const out = resolve(args.out);
  const result = (): SuiteResult => ({
    columns: parts.flatMap((p) => p.columns),
    fixtures: fixtures.map(fixtureInfo),
    cells: parts.flatMap((p) => p.cells),
    ms: performance.now() - start,
  });
  /** out/parity.json, out/parity.html, out/device-noise.json and out/float16.json; the matrix, the device-noise and the float16 cells printed. */
  const writeReport = async (): Promise<void> => {
    await mkdir(out, { recursive: true });
    const meta = { generated: new Date().toISOString(), versions: await versions() };
    const written = result();
    await writeFile(`${out}/parity.json`, JSON.stringify({ ...meta, ...written }));
    await writeFile(`${out}/parity.html`, reportHtml(written, meta));
    console.log(formatMatrix(written));
    if (deviceNoise.length) {
      await writeFile(`${out}/device-noise.json`, JSON.stringify(deviceNoise, null, 2));
      console.log(`\nNoise generated on the device (docs/methods.md, "Noise"):\n${formatDeviceNoise(deviceNoise)}`);
    }
    if (float16) {
      await writeFile(`${out}/float16.json`, JSON.stringify(float16, null, 2));
      console.log(`\nprecision 'float16' on ONNX Runtime WebGPU (docs/methods.md, "Precision"):\n${formatFloat16(float16)}`);
    }
  };

  let problems: string[] = [];
  if (args['no-browser']) await writeReport();
  else {
    const built = performance.now();
    await buildPage();
    process.stderr.write(
      `page built in ${seconds(performance.now() - built)}; Chromium: ${(args['browser-runtimes'] ?? CHROMIUM_RUNTIMES.join(',')).replaceAll(',', ', ')}\n`,
    );
    const browserRuntimes = args['browser-runtimes']?.split(',');
    const unknownRuntimes = browserRuntimes?.filter((r) => !isRuntimeId(r) || !CHROMIUM_RUNTIMES.includes(r)) ?? [];
    if (unknownRuntimes.length)
      throw new Error(`--browser-runtimes: ${unknownRuntimes.join(', ')}; the Chromium run has ${CHROMIUM_RUNTIMES.join(', ')}`);
    // One Chromium for the columns, the device-noise cells and the report's screenshot.
    problems = await withParityChromium(async (context, pageUrl) => {
      const browser = await runBrowserSuite(context, pageUrl, names, {
        ...(browserRuntimes ? { runtimes: browserRuntimes.filter(isRuntimeId) } : {}),
        ...(rows ? { rows } : {}),
        onCell: progress,
      });
      process.stderr.write(`Chromium done in ${seconds(browser.ms)}\n`);
      parts.push(browser);
      const noiseStart = performance.now();
      deviceNoise = await runDeviceNoiseInChromium(context, pageUrl, names);
      process.stderr.write(`device-noise cells (${DEVICE_NOISE_RUNTIMES.join(', ')}) done in ${seconds(performance.now() - noiseStart)}\n`);
      float16 = await runFloat16InChromium(context, pageUrl, names);
      await writeReport();
      const checkStart = performance.now();
      const check = await checkReportScreenshot(context, pathToFileURL(`${out}/parity.html`).href, `${out}/parity.png`);
      console.log(
        `\nReport ${out}/parity.html: ${check.heatmaps} heatmaps, ${check.decoded} decoded, ${check.visible} visible in the screenshot ${out}/parity.png (checked in ${seconds(performance.now() - checkStart)})`,
      );
      return check.problems;
    });
  }
  const bad = [
    ...failures(result()),
    ...deviceNoise.filter((r) => r.status !== 'pass'),
    ...(float16?.cells.filter((cell) => cell.status === 'error') ?? []),
  ];
  console.log(`Wrote ${out}/parity.json and ${out}/parity.html in ${seconds(performance.now() - start)}.`);
  for (const problem of problems) console.log(`report: ${problem}`);
  if (bad.length || problems.length) {
    console.log(`FAILED: ${bad.length} cells past tolerance or in error${problems.length ? `, ${problems.length} report problems` : ''}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
