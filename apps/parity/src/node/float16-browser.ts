import { withChromium } from '@saliency/dev-support/chromium';
import type { Float16Page, Float16Result } from '../suite/float16-cells.js';
import { FIXTURES_DIR } from './fixture-files.js';
import { PAGE_DIR } from './run-browser-suite.js';
import { servedFolders, startStaticServer } from './static-server.js';

/** The float16 cells (src/suite/float16-cells.ts) in headless Chromium, on the page built in dist/browser. */
export async function runFloat16InChromium(names: readonly string[]): Promise<Float16Result> {
  const server = await startStaticServer(servedFolders(PAGE_DIR, FIXTURES_DIR));
  try {
    return await withChromium(async (context) => {
      const page = await context.newPage();
      try {
        await page.goto(server.url, { waitUntil: 'load' });
        page.setDefaultTimeout(300_000);
        return await page.evaluate((fixtures) => (window as unknown as Float16Page).runFloat16(fixtures), [...names]);
      } catch (error) {
        const reason = `the page failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
        return {
          column: 'onnx-webgpu@chromium',
          cells: names.map((fixture) => ({ fixture, method: 'gradient' as const, status: 'error' as const, reason })),
        };
      } finally {
        await page.close();
      }
    });
  } finally {
    await server.close();
  }
}
