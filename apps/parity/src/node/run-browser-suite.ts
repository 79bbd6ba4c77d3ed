import { fileURLToPath } from 'node:url';
import type { ParityPage } from '../suite/page-api.js';
import type { CellResult, ParityRow, SuiteResult } from '../suite/results.js';
import { runtimeLibrary, type RuntimeId } from '@saliency/core';
import { CHROMIUM_RUNTIMES, columnId } from '../suite/columns.js';
import { columnInfo } from '../suite/run-suite.js';
import type { BrowserContext } from 'playwright-core';
import { withChromium } from '@saliency/dev-support/chromium';
import { FIXTURES_DIR } from './fixture-files.js';
import { servedFolders, startStaticServer } from './static-server.js';

const APP = fileURLToPath(new URL('../../', import.meta.url));
export const PAGE_DIR = `${APP}dist/browser`;

/** Builds browser/ with Vite into dist/browser. */
export async function buildPage(): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: `${APP}browser/vite.config.ts` });
}

/**
 * One headless Chromium and the page's server for `work`: the parity
 * columns, the device-noise cells and the report's screenshot share them, so
 * Chromium starts once and its caches (compiled wasm, shaders) carry over
 * from page to page.
 */
export async function withParityChromium<T>(work: (context: BrowserContext, pageUrl: string) => Promise<T>): Promise<T> {
  const server = await startStaticServer(servedFolders(PAGE_DIR, FIXTURES_DIR));
  try {
    return await withChromium((context) => work(context, server.url));
  } finally {
    await server.close();
  }
}

/**
 * The suite in headless Chromium (`context`, the page served at `pageUrl`):
 * one fresh page per column (a crash or a lost WebGL context stays in its
 * column), results returned through `page.evaluate`. A page that fails as a
 * whole gives error cells naming why.
 */
export async function runBrowserSuite(
  context: BrowserContext,
  pageUrl: string,
  names: readonly string[],
  options: { runtimes?: readonly RuntimeId[]; rows?: readonly ParityRow[]; onCell?: (cell: CellResult) => void; timeoutMs?: number } = {},
): Promise<SuiteResult> {
  const start = performance.now();
  const results: SuiteResult[] = [];
  for (const runtime of options.runtimes ?? CHROMIUM_RUNTIMES) {
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    await page.exposeFunction('parityCell', (cell: CellResult) => options.onCell?.(cell));
    try {
      await page.goto(pageUrl, { waitUntil: 'load' });
      page.setDefaultTimeout(options.timeoutMs ?? 300_000);
      const result = await page.evaluate(([id, fixtures, rows]) => (window as unknown as ParityPage).runParity(id, fixtures, rows), [
        runtime,
        [...names],
        options.rows ? [...options.rows] : undefined,
      ] as [RuntimeId, string[], ParityRow[] | undefined]);
      results.push(result);
    } catch (error) {
      const reason = `the page failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}${consoleErrors.length ? ` (console: ${consoleErrors.slice(-3).join(' | ')})` : ''}`;
      results.push(pageFailure(runtime, names, reason));
    } finally {
      await page.close();
    }
  }
  return {
    columns: results.flatMap((r) => r.columns),
    fixtures: results[0]?.fixtures ?? [],
    cells: results.flatMap((r) => r.cells),
    ms: performance.now() - start,
  };
}

function pageFailure(runtime: RuntimeId, names: readonly string[], reason: string): SuiteResult {
  const id = columnId(runtime, 'chromium');
  const library = runtimeLibrary(runtime) === 'tfjs' ? 'TF.js' : 'ONNX Runtime';
  const device = runtime.slice(runtime.indexOf('-') + 1);
  const deviceClass = /web(gl|gpu)/.test(runtime) ? 'gpu' : 'float32-exact';
  const info = columnInfo({ id, runtime, library, device, environment: 'chromium', deviceClass, model: 'onnx', unavailable: reason });
  return {
    columns: [info],
    fixtures: [],
    cells: names.map((fixture) => ({ fixture, row: 'logits', column: id, status: 'error', tolerance: info.tolerance, reason })),
    ms: 0,
  };
}
