import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { sizeOf } from '@saliency/core';
import * as ortNode from 'onnxruntime-node';
import type * as OrtWeb from 'onnxruntime-web';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium, type Browser } from '@saliency/dev-support/chromium';
import { COTANGENT_INPUT } from '../../src/autodiff/build-gradient-model.js';

/*
 * The Chromium page (SwiftShader WebGL and WebGPU, dev-support/chromium.mjs)
 * of every browser test of this package: it loads onnxruntime-web's WebGL
 * bundle (or its WebGPU one), for tests of what the EP itself computes.
 */

const ORT_DIST = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));

export type Feeds = Record<string, { dims: number[]; data: number[] }>;
export type Outputs = Record<string, { dims: number[]; data: number[] }>;

/** The onnxruntime-web bundle that brings each EP into a page, and the origin it is served from: WebGPU needs a secure one. */
const ORT_PAGES = {
  webgl: { bundle: 'ort.webgl.min.mjs', origin: 'http://saliency.test' },
  webgpu: { bundle: 'ort.webgpu.bundle.min.mjs', origin: 'https://saliency.test' },
} as const;

export type PageExecutionProvider = keyof typeof ORT_PAGES;

/** Chromium's start and the bundle's load, on a loaded 2-core machine (CI runs the suites side by side). */
const PAGE_START_TIMEOUT_MS = 120_000;

/**
 * Opens, before the tests of the describe block it is called in, a Chromium
 * page with the onnxruntime-web bundle of `executionProvider` loaded as
 * `window.ort`, and closes the browser after them; the tests read the page
 * through the function returned.
 */
export function ortPageForSuite(executionProvider: PageExecutionProvider = 'webgl'): () => Page {
  let browser: Browser | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    ({ browser, page } = await openOrtPage(ORT_PAGES[executionProvider]));
  }, PAGE_START_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (page === undefined) throw new Error(`the ${executionProvider} page is open only while the tests of its describe block run`);
    return page;
  };
}

/** A Chromium page that imports onnxruntime-web's `bundle` (a file of its dist/, served with the others there) as `window.ort`. */
async function openOrtPage({ bundle, origin }: { bundle: string; origin: string }): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  try {
    // The bundle is imported by the page (a dynamic import inside `page.evaluate` would be rewritten by Vitest).
    const html = `<!doctype html><title>ort</title><script type="module">import * as ort from '/${bundle}'; window.ort = ort;</script>`;
    await browser.context.route(`${origin}/**`, async (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/') return route.fulfill({ contentType: 'text/html', body: html });
      if (/^\/ort[\w.-]*\.(mjs|wasm)$/.test(path))
        return route.fulfill({
          contentType: path.endsWith('.wasm') ? 'application/wasm' : 'text/javascript',
          body: await readFile(join(ORT_DIST, path)),
        });
      return route.fulfill({ status: 404, body: 'not found' });
    });
    const page = await browser.context.newPage();
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'ort' in window, undefined, { timeout: 60_000 });
    return { browser, page };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

/** Runs an ONNX model on the WebGL EP (or `executionProvider`) in the page: its outputs, or the error's message. */
export async function runWebgl(
  page: Page,
  bytes: Uint8Array,
  feeds: Feeds,
  executionProvider: PageExecutionProvider = 'webgl',
): Promise<Outputs | string> {
  return page.evaluate(
    async ({ model, feeds, executionProvider }) => {
      const ort = (window as unknown as { ort: typeof OrtWeb }).ort;
      try {
        const session = await ort.InferenceSession.create(Uint8Array.from(model), { executionProviders: [executionProvider] });
        const inputs = Object.fromEntries(
          Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor('float32', Float32Array.from(t.data), t.dims)]),
        );
        const results = await session.run(inputs);
        const outputs = Object.fromEntries(
          Object.entries(results).map(([name, t]) => [name, { dims: [...t.dims], data: Array.from(t.data as Float32Array) }]),
        );
        await session.release();
        return outputs;
      } catch (error) {
        return String((error as Error).message ?? error);
      }
    },
    { model: Array.from(bytes), feeds, executionProvider },
  );
}

/** Feeds of a gradient graph: the explained `input` (values of seed 11) and the cotangent of its logits (seed 13). */
export function gradientFeeds(input: { name: string; shape: readonly number[] }, logitsShape: readonly number[]): Feeds {
  return {
    [input.name]: { dims: [...input.shape], data: values(sizeOf(input.shape), 11) },
    [COTANGENT_INPUT]: { dims: [...logitsShape], data: values(sizeOf(logitsShape), 13) },
  };
}

/** Deterministic values in [-1, 1). */
export function values(length: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

export function relativeMaxError(actual: ArrayLike<number>, reference: ArrayLike<number>): number {
  let error = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    error = Math.max(error, Math.abs(actual[i]! - reference[i]!));
    scale = Math.max(scale, Math.abs(reference[i]!));
  }
  return error / scale;
}

/** The graph `bytes` on onnxruntime-node with `feeds` (float32): the reference a page's run is compared with. */
export async function runNode(bytes: Uint8Array, feeds: Feeds): Promise<ortNode.InferenceSession.OnnxValueMapType> {
  const session = await ortNode.InferenceSession.create(bytes);
  try {
    return await session.run(
      Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, new ortNode.Tensor('float32', Float32Array.from(t.data), t.dims)])),
    );
  } finally {
    await session.release();
  }
}
