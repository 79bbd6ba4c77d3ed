import type { BrowserContext } from 'playwright-core';
import type { Float16Page, Float16Result } from '../suite/float16-cells.js';

/** The float16 cells (src/suite/float16-cells.ts) in headless Chromium, on the parity page at `pageUrl`. */
export async function runFloat16InChromium(context: BrowserContext, pageUrl: string, names: readonly string[]): Promise<Float16Result> {
  const page = await context.newPage();
  try {
    await page.goto(pageUrl, { waitUntil: 'load' });
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
}
