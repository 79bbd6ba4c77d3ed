import { fileURLToPath } from 'node:url';
import type { ParityPage } from '../suite/page-api.js';
import type { CellResult, SuiteResult } from '../suite/results.js';
import { targetInfo } from '../suite/run-suite.js';
import { withChromium } from '@saliency/dev-support/chromium';
import { FIXTURES_DIR } from './fixture-files.js';
import { servedFolders, startStaticServer } from './static-server.js';

const APP = fileURLToPath(new URL('../../', import.meta.url));
export const PAGE_DIR = `${APP}dist/browser`;

/** Every target of the Chromium run, by id (see browser/browser-targets.ts). */
export const BROWSER_TARGETS = ['tfjs-cpu', 'tfjs-wasm', 'tfjs-webgl', 'tfjs-webgpu', 'ort-wasm', 'ort-webgl', 'ort-webgpu'];

/** Builds browser/ with Vite into dist/browser. */
export async function buildPage(): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: `${APP}browser/vite.config.ts` });
}

/**
 * The suite in headless Chromium: one fresh page per target (a crash or a
 * lost WebGL context stays in its target), results returned through
 * `page.evaluate`. A page that fails as a whole gives error cells naming why.
 */
export async function runBrowserSuite(
  names: readonly string[],
  options: { targets?: readonly string[]; onCell?: (cell: CellResult) => void; timeoutMs?: number } = {},
): Promise<SuiteResult> {
  const start = performance.now();
  const server = await startStaticServer(servedFolders(PAGE_DIR, FIXTURES_DIR));
  const results: SuiteResult[] = [];
  try {
    await withChromium(async (context) => {
      for (const id of options.targets ?? BROWSER_TARGETS) {
        const page = await context.newPage();
        const consoleErrors: string[] = [];
        page.on('console', (message) => {
          if (message.type() === 'error') consoleErrors.push(message.text());
        });
        page.on('pageerror', (error) => consoleErrors.push(error.message));
        await page.exposeFunction('parityCell', (cell: CellResult) => options.onCell?.(cell));
        try {
          await page.goto(server.url, { waitUntil: 'load' });
          page.setDefaultTimeout(options.timeoutMs ?? 300_000);
          const result = await page.evaluate(([target, fixtures]) => (window as unknown as ParityPage).runParity(target, fixtures), [id, [...names]] as [string, string[]]);
          results.push(result);
        } catch (error) {
          const reason = `the page failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}${consoleErrors.length ? ` (console: ${consoleErrors.slice(-3).join(' | ')})` : ''}`;
          results.push(pageFailure(id, names, reason));
        } finally {
          await page.close();
        }
      }
    });
  } finally {
    await server.close();
  }
  return {
    targets: results.flatMap((r) => r.targets),
    fixtures: results[0]?.fixtures ?? [],
    cells: results.flatMap((r) => r.cells),
    ms: performance.now() - start,
  };
}

function pageFailure(id: string, names: readonly string[], reason: string): SuiteResult {
  const [runtime, device = ''] = id.startsWith('tfjs-') ? ['TF.js', id.slice(5)] : ['ONNX Runtime', id.slice(4)];
  const info = targetInfo({ id, runtime: runtime as 'TF.js', device, environment: 'chromium', deviceClass: /web(gl|gpu)/.test(id) ? 'gpu' : 'float32-exact', model: 'onnx', unavailable: reason });
  return { targets: [info], fixtures: [], cells: names.map((fixture) => ({ fixture, row: 'logits', target: id, status: 'error', tolerance: info.tolerance, reason })), ms: 0 };
}
