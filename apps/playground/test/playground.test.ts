import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Browser } from '@saliency/dev-support/chromium';
import { ecgExample, explainSeriesOnce, laneStrengths } from './series-page.js';
import { expectCamOnDigit, expectMethodGroups } from './method-groups.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUTPUT = fileURLToPath(new URL('./output/', import.meta.url));
/**
 * The screenshot at the top of README.md, written by the ONNX Runtime wasm
 * test below: re-running this test rewrites it, so the committed picture is
 * always what the test saw.
 */
const README_SCREENSHOT = fileURLToPath(new URL('../../../docs/images/playground.png', import.meta.url));
/**
 * VarGrad × input: signed, and on MNIST concentrated on the strokes (plain
 * VarGrad with σ = 1 spreads over the digit's whole neighbourhood).
 */
const METHOD = 'vargrad_x_input';
/** A bundled digit, named `<label>-<index>.png` by examples/mnist/train.py. */
const DIGIT = 'digits/3-0.png';
const LABEL = 3;
/** The runtimes the page offers besides ONNX Runtime wasm, each explained below. */
const OTHER_RUNTIMES = ['tfjs-wasm', 'tfjs-webgl', 'tfjs-webgpu', 'tfjs-cpu', 'onnx-webgpu'];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Luminance (BT.709) of each RGBA pixel, 0..255. */
function luminance(rgba: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < rgba.length; i += 4) out.push(0.2126 * rgba[i]! + 0.7152 * rgba[i + 1]! + 0.0722 * rgba[i + 2]!);
  return out;
}

/**
 * How far each RGBA pixel is from white (#f7f7f7), the colour of 0 on the
 * diverging colormap a signed map is drawn with: its attribution's magnitude.
 */
function intensity(rgba: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < rgba.length; i += 4) out.push(Math.hypot(rgba[i]! - 247, rgba[i + 1]! - 247, rgba[i + 2]! - 247));
  return out;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function correlation(a: readonly number[], b: readonly number[]): number {
  const ma = mean(a);
  const mb = mean(b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((x, i) => {
    const y = b[i]! - mb;
    ab += (x - ma) * y;
    aa += (x - ma) ** 2;
    bb += y * y;
  });
  return ab / Math.sqrt(aa * bb);
}

/**
 * The largest difference, over every pixel and colour channel, between the
 * drawn overlay and the heatmap laid over the image with the slider's opacity
 * (scaled by the heatmap's own alpha), computed here from the two pictures.
 */
function largestBlendError(drawn: readonly number[], image: readonly number[], heat: readonly number[], opacity: number): number {
  let largest = 0;
  for (let i = 0; i < drawn.length; i += 4) {
    const a = (opacity * heat[i + 3]!) / 255;
    for (let c = 0; c < 3; c++) largest = Math.max(largest, Math.abs(drawn[i + c]! - ((1 - a) * image[i + c]! + a * heat[i + c]!)));
  }
  return largest;
}

/** The class list is shown: five classes, most probable first, the digit's label explained and confidently predicted. */
async function expectClassList(page: Page): Promise<void> {
  expect(await page.isVisible('#classes'), 'the class list is shown').toBe(true);
  const items = await page.$$eval('#classes li', (lis) =>
    lis.map((li) => ({ text: li.textContent ?? '', explained: li.hasAttribute('data-explained') })),
  );
  expect(items).toHaveLength(5);
  expect(items[0]!.text).toMatch(new RegExp(`^class ${LABEL}: `));
  expect(items[0]!.explained, 'the explained (top) class is marked').toBe(true);
  const probabilities = items.map(({ text }) => Number(/: ([\d.]+)$/.exec(text)?.[1]));
  expect(probabilities[0]).toBeGreaterThan(0.5);
  expect(
    probabilities.every((p, i) => i === 0 || p <= probabilities[i - 1]!),
    'most probable first',
  ).toBe(true);
}

interface Explained {
  readonly status: string;
  /** The heatmap canvas's intensity (distance from the colour of 0) per pixel. */
  readonly heat: number[];
  /** The digit, decoded by the test itself from the served PNG, in grey levels. */
  readonly digit: number[];
  readonly distinctColours: number;
  /** The heatmap canvas's luminance per pixel: a sequential map's value (viridis brightens with it). */
  readonly heatLuminance: number[];
  /** The colour bar's middle label: '0' on the diverging scale, empty on the sequential one. */
  readonly barMiddle: string;
}

/** Clicks through one explanation and reads back the drawn heatmap and the digit it explains. */
async function explainOnce(page: Page, runtime: string, method = METHOD): Promise<Explained> {
  await page.selectOption('#model', 'bundled');
  await page.selectOption('#image', DIGIT);
  await page.selectOption('#method', method);
  await page.selectOption('#runtime', runtime);
  await page.click('#explain');
  await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 90_000 });
  const status = (await page.textContent('#status')) ?? '';
  expect(await page.getAttribute('#status', 'data-state'), status).toBe('done');
  await page.screenshot({ path: `${OUTPUT}playground-${runtime}${method === METHOD ? '' : `-${method}`}.png` });
  const read = await page.evaluate(async (digitUrl) => {
    const canvas = document.getElementById('heatmap-canvas') as HTMLCanvasElement;
    const heat = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const bitmap = await createImageBitmap(await (await fetch(digitUrl)).blob());
    const digitCanvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = digitCanvas.getContext('2d')!;
    context.drawImage(bitmap, 0, 0);
    const digit = context.getImageData(0, 0, bitmap.width, bitmap.height);
    const overlay = document.getElementById('overlay-canvas') as HTMLCanvasElement;
    return {
      overlay: Array.from(overlay.getContext('2d')!.getImageData(0, 0, overlay.width, overlay.height).data),
      overlaySize: [overlay.width, overlay.height],
      opacity: Number((document.getElementById('opacity') as HTMLInputElement).value),
      heat: Array.from(heat.data),
      heatSize: [heat.width, heat.height],
      digit: Array.from(digit.data),
      digitSize: [digit.width, digit.height],
    };
  }, `/mnist/${DIGIT}`);
  expect(read.heatSize).toEqual(read.digitSize);
  // the overlay is at the image's size, with a colour bar beside it
  expect(read.overlaySize).toEqual(read.digitSize);
  expect(
    largestBlendError(read.overlay, read.digit, read.heat, read.opacity),
    'overlay = the heatmap blended over the digit',
  ).toBeLessThanOrEqual(1);
  expect(await page.isVisible('#colour-bar')).toBe(true);
  await expectClassList(page);
  const colours = new Set<number>();
  for (let i = 0; i < read.heat.length; i += 4) colours.add((read.heat[i]! << 16) | (read.heat[i + 1]! << 8) | read.heat[i + 2]!);
  return {
    status,
    heat: intensity(read.heat),
    heatLuminance: luminance(read.heat),
    digit: luminance(read.digit),
    distinctColours: colours.size,
    barMiddle: (await page.textContent('#bar-mid')) ?? '',
  };
}

/** The map must be drawn, and brighter on the digit's strokes than on the background. */
function expectMapOnStrokes({ status, heat, digit, distinctColours }: Explained, method = METHOD): void {
  expect(status).toContain(`predicted ${LABEL} · ${method}`);
  expect(distinctColours, 'a heatmap, not a blank canvas').toBeGreaterThan(20);
  expect(Math.max(...heat), 'the largest magnitudes are drawn intense').toBeGreaterThan(200);
  const strokes = heat.filter((_, i) => digit[i]! > 127);
  const background = heat.filter((_, i) => digit[i]! <= 127);
  expect(strokes.length).toBeGreaterThan(30);
  expect(mean(strokes), 'mean intensity on strokes vs background').toBeGreaterThan(3 * mean(background));
  // The most intense tenth of the pixels lies mostly on strokes, which cover about a fifth of the image.
  const threshold = [...heat].sort((a, b) => b - a)[Math.floor(heat.length / 10)]!;
  const top = heat.flatMap((h, i) => (h > threshold ? [digit[i]! > 127] : []));
  expect(top.filter(Boolean).length / top.length, 'share of the most intense pixels on strokes').toBeGreaterThan(0.6);
}

describe('the playground page', () => {
  let server: PreviewServer;
  let browser: Browser;
  let page: Page;
  const explained = new Map<string, Explained>();

  beforeAll(async () => {
    await mkdir(OUTPUT, { recursive: true });
    await mkdir(dirname(README_SCREENSHOT), { recursive: true });
    await build({ root: ROOT, logLevel: 'warn' });
    server = await preview({ root: ROOT, logLevel: 'warn', preview: { host: '127.0.0.1', port: await freePort(), strictPort: true } });
    browser = await launchChromium({ viewport: { width: 1000, height: 800 } });
    page = await browser.context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') console.error(`[page] ${message.text()}`);
    });
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('vite preview reports no URL');
    await page.goto(url);
    // The page opens with the bundled digit already explained (on the first backend, ONNX Runtime wasm).
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 90_000 });
    expect(await page.getAttribute('#status', 'data-state'), (await page.textContent('#status')) ?? '').toBe('done');
    expect(await page.evaluate(() => crossOriginIsolated), 'COOP/COEP headers served').toBe(true);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists the classes with their probabilities, the predicted one first', async () => {
    const items = await page.$$eval('#classes li', (lis) => lis.map((li) => li.textContent ?? ''));
    expect(items).toHaveLength(5);
    const probabilities = items.map((text) => Number(/: ([\d.]+)$/.exec(text)?.[1]));
    // the digit the page opened on, named `<label>-<index>.png`
    const opened = Number(/digits\/(\d)-/.exec(await page.inputValue('#image'))?.[1]);
    expect(items[0]).toMatch(new RegExp(`^class ${opened}: `));
    expect(probabilities[0]).toBeGreaterThan(0.5);
    expect(probabilities.every((p, i) => i === 0 || p <= probabilities[i - 1]!)).toBe(true);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1.005);
    // the class picker offers every class of the model
    expect(await page.$$eval('#target option', (options) => options.length)).toBe(11);
  });

  it('offers exactly the runtimes this test explains on', async () => {
    const offered = await page.$$eval('#runtime option', (options) => options.map((option) => (option as HTMLOptionElement).value));
    expect(offered.sort()).toEqual(['onnx-wasm', ...OTHER_RUNTIMES].sort());
  });

  it('explains a digit on ONNX Runtime wasm: the map lies on its strokes', async () => {
    const result = await explainOnce(page, 'onnx-wasm');
    explained.set('onnx-wasm', result);
    expectMapOnStrokes(result);
    await page.screenshot({ path: README_SCREENSHOT, fullPage: true });
  });

  // Every other runtime the page offers, on the built (minified) bundle: the
  // same map as ONNX Runtime's. TF.js · wasm runs threaded here (the page is
  // cross-origin isolated), from a chunk left unminified (vite/unminified-wasm-backend.ts).
  it.each(OTHER_RUNTIMES)(
    'explains it on %s (SwiftShader for WebGL/WebGPU): the same map as ONNX Runtime wasm',
    async (runtime) => {
      const errors: string[] = [];
      const onError = (error: Error) => errors.push(error.message);
      page.on('pageerror', onError);
      try {
        const result = await explainOnce(page, runtime);
        expectMapOnStrokes(result);
        const onnx = explained.get('onnx-wasm');
        if (onnx) expect(correlation(result.heat, onnx.heat), 'pixel correlation with the ONNX map').toBeGreaterThan(0.98);
      } finally {
        page.off('pageerror', onError);
      }
      expect(errors, 'uncaught errors in the page or its workers').toEqual([]);
    },
    180_000,
  );

  it('explains an uploaded 12-lead ECG (CSV) with an uploaded 1-D model: one named lane per lead, V1–V4 strongest', async () => {
    const { state, status, svg } = await explainSeriesOnce(page, 'vargrad_x_sign');
    expect(state, status).toBe('done');
    await page.screenshot({ path: `${OUTPUT}playground-series.png`, fullPage: true });
    // class 1 is anterior ST elevation (examples/ecg/model/samples.json)
    expect(status).toContain('predicted 1 · vargrad_x_sign');
    expect(
      [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]),
      'lane names from the CSV header',
    ).toEqual(ecgExample.leads);
    expect(svg.match(/<polyline /g)).toHaveLength(12);
    const strengths = laneStrengths(svg, 12);
    const top4 = ecgExample.leads
      .map((lead, k) => ({ lead, s: strengths[k]! }))
      .sort((a, b) => b.s - a.s)
      .slice(0, 4);
    expect(top4.map((t) => t.lead).sort(), 'the anterior leads carry the attribution').toEqual(['V1', 'V2', 'V3', 'V4']);
  });
  it('offers every method in four groups, each with a sentence on what its map shows', async () => {
    const groups = await page.$$eval('#method optgroup', (found) =>
      found.map((group) => ({
        label: (group as HTMLOptGroupElement).label,
        methods: [...group.querySelectorAll('option')].map((o) => o.value),
      })),
    );
    expectMethodGroups(groups);
    const notes = new Set<string>();
    const shown = [
      'vargrad',
      'guided_backprop',
      'deconvnet',
      'lrp_epsilon_0_1',
      'lrp_epsilon_plus_flat',
      'grad_cam',
      'grad_cam_plus_plus',
      'grad_cam_timeseries',
    ];
    for (const method of shown) {
      await page.selectOption('#method', method);
      notes.add((await page.textContent('#method-note')) ?? '');
    }
    expect(
      [...notes].every((note) => note.length > 40 && !note.includes('without a note')),
      [...notes].join('\n'),
    ).toBe(true);
    expect(notes.size, 'one sentence per method').toBe(shown.length);
  });

  // One new method of each group on the bundled digit: a modified backward
  // pass (signed, diverging colours) and a CAM (never negative, viridis).
  it('explains the digit with guided_backprop on ONNX Runtime wasm and TF.js wasm: a signed map on the strokes, the same on both', async () => {
    const onnx = await explainOnce(page, 'onnx-wasm', 'guided_backprop');
    expectMapOnStrokes(onnx, 'guided_backprop');
    expect(onnx.barMiddle, 'a diverging colour bar').toBe('0');
    const tfjs = await explainOnce(page, 'tfjs-wasm', 'guided_backprop');
    expectMapOnStrokes(tfjs, 'guided_backprop');
    expect(correlation(tfjs.heat, onnx.heat), 'pixel correlation of TF.js with ONNX').toBeGreaterThan(0.98);
  }, 180_000);

  it('explains the digit with lrp_epsilon_0_1 on ONNX Runtime wasm and TF.js wasm (a LayersModel): a signed map on the strokes, the same on both', async () => {
    const onnx = await explainOnce(page, 'onnx-wasm', 'lrp_epsilon_0_1');
    expectMapOnStrokes(onnx, 'lrp_epsilon_0_1');
    expect(onnx.barMiddle, 'a diverging colour bar').toBe('0');
    const tfjs = await explainOnce(page, 'tfjs-wasm', 'lrp_epsilon_0_1');
    expectMapOnStrokes(tfjs, 'lrp_epsilon_0_1');
    expect(correlation(tfjs.heat, onnx.heat), 'pixel correlation of TF.js with ONNX').toBeGreaterThan(0.98);
  }, 180_000);

  it('explains the digit with grad_cam on ONNX Runtime wasm and TF.js wasm: a sequential map at the image size, hottest on the digit, the same on both', async () => {
    const maps = [];
    for (const runtime of ['onnx-wasm', 'tfjs-wasm']) {
      const result = await explainOnce(page, runtime, 'grad_cam');
      expect(result.status).toContain(`predicted ${LABEL} · grad_cam`);
      expect(result.barMiddle, 'a sequential colour bar').toBe('');
      expectCamOnDigit(result.heatLuminance, result.digit, result.distinctColours);
      maps.push(result.heatLuminance);
    }
    expect(correlation(maps[1]!, maps[0]!), 'pixel correlation of TF.js with ONNX').toBeGreaterThan(0.98);
  }, 180_000);
});
