import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import type * as OrtWeb from 'onnxruntime-web';
import type { Page } from 'playwright-core';
import { launchChromium, type Browser } from '@saliency/dev-support/chromium';

/*
 * A Chromium page (SwiftShader WebGL and WebGPU, dev-support/chromium.mjs)
 * that loads onnxruntime-web's WebGL bundle (or another), for tests of what
 * the EP itself computes.
 */

const ORT_DIST = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));

export type Feeds = Record<string, { dims: number[]; data: number[] }>;
export type Outputs = Record<string, { dims: number[]; data: number[] }>;

export interface WebglPage {
  readonly browser: Browser;
  readonly page: Page;
}

export async function openWebglPage(): Promise<WebglPage> {
  return openOrtPage('ort.webgl.min.mjs', 'http://saliency.test');
}

/**
 * A Chromium page that imports onnxruntime-web's `bundle` (a file of its
 * dist/, served with the others there) as `window.ort`; WebGPU needs a secure
 * origin (https, served by the same route).
 */
export async function openOrtPage(bundle: string, origin: string): Promise<WebglPage> {
  const browser = await launchChromium();
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
  await page.waitForFunction(() => 'ort' in window, undefined, {
    timeout: 60_000,
  });
  return { browser, page };
}

/** Runs an ONNX model on the WebGL EP (or `executionProvider`) in the page: its outputs, or the error's message. */
export async function runWebgl(page: Page, bytes: Uint8Array, feeds: Feeds, executionProvider = 'webgl'): Promise<Outputs | string> {
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
