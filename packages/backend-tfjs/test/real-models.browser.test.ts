import { createReadStream, existsSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { createServer, type Plugin, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Browser } from '@saliency/dev-support/chromium';
import { hostTensor } from '@saliency/core';
import { createTfjsBackend } from '../src/index.js';
import { useBackend } from './helpers/tfjs-setup.js';
import { HUMAN_MODELS, loadHumanModel } from './helpers/npm-models.js';
import { prng } from './helpers/prng.js';
import type { GradientRequest } from './browser/page.js';

/*
 * The shipped GraphModels of real-models.test.ts on TF.js's webgl and webgpu
 * backends, in Chromium with SwiftShader (dev-support/chromium.mjs), against
 * tfjs-wasm in Node (which agrees with tfjs-cpu to 3.5e-7 on these models):
 * within the parity tolerance of GPU devices, 1e-3 of the largest magnitude
 * (apps/parity).
 */

const GPU_TOLERANCE = 1e-3;

const MODELS = [
  { file: 'emotion', shape: [1, 64, 64, 1], target: 3 },
  { file: 'liveness', shape: [2, 32, 32, 3], target: 1 },
] as const;

function image(shape: readonly number[], seed: number): Float32Array {
  const random = prng(seed);
  return Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => random());
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Serves the installed package's model files under /models/. */
function humanModels(): Plugin {
  return {
    name: 'human-models',
    configureServer(server) {
      server.middlewares.use('/models/', (request, response, next) => {
        const path = join(HUMAN_MODELS, (request.url ?? '').replace(/^\/+/, '').split('?')[0]!);
        if (!path.startsWith(HUMAN_MODELS) || !existsSync(path)) return next();
        response.setHeader('Content-Type', path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        createReadStream(path).pipe(response);
      });
    },
  };
}

describe('real models from npm in Chromium', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let page: Page;
  const references = new Map<string, Float32Array>();

  beforeAll(async () => {
    await useBackend('wasm');
    for (const spec of MODELS) {
      const model = await loadHumanModel(spec.file);
      try {
        const g = await createTfjsBackend(model).gradients(
          hostTensor(image(spec.shape, 5), [...spec.shape]),
          Int32Array.from({ length: spec.shape[0] }, () => spec.target),
        );
        references.set(spec.file, g.data);
      } finally {
        model.dispose();
      }
    }
    server = await createServer({
      root: fileURLToPath(new URL('./browser/', import.meta.url)),
      configFile: false,
      logLevel: 'warn',
      plugins: [humanModels()],
      server: { host: '127.0.0.1', port: await freePort(), strictPort: true },
    });
    await server.listen();
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') console.error(`[page] ${message.text()} ${message.location().url}`);
    });
    await page.goto(server.resolvedUrls!.local[0]!);
    await page.waitForFunction(() => document.body.dataset['ready'] === 'true', undefined, { timeout: 120_000 });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const cases = (['webgl', 'webgpu'] as const).flatMap((backend) => MODELS.map((spec) => [backend, spec.file, spec] as const));
  it.each(cases)(
    '%s: %s agrees with tfjs-wasm within 1e-3',
    async (backend, _, spec) => {
      const request: GradientRequest = {
        backend,
        modelUrl: `/models/${spec.file}.json`,
        shape: [...spec.shape],
        data: Array.from(image(spec.shape, 5)),
        target: spec.target,
      };
      const { gradient, leaked } = await page.evaluate(
        (r) => (window as unknown as { gradients(r: GradientRequest): Promise<{ gradient: number[]; leaked: number }> }).gradients(r),
        request,
      );
      expect(leaked, 'tensors left on the device').toBe(0);
      const reference = references.get(spec.file)!;
      let error = 0;
      let scale = 0;
      for (let i = 0; i < reference.length; i++) {
        error = Math.max(error, Math.abs(gradient[i]! - reference[i]!));
        scale = Math.max(scale, Math.abs(reference[i]!));
      }
      console.log(`${spec.file} on ${backend}: relative max error ${(error / scale).toExponential(2)} vs tfjs-wasm`);
      expect(gradient.length).toBe(reference.length);
      expect(error / scale).toBeLessThanOrEqual(GPU_TOLERANCE);
    },
    300_000,
  );
});
