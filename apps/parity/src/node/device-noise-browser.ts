import type { BrowserContext } from 'playwright-core';
import {
  DEVICE_NOISE_RUNTIMES,
  type DeviceNoisePage,
  type DeviceNoiseResult,
  type DeviceNoiseRuntime,
} from '../suite/device-noise-cells.js';

/**
 * The device-noise cells (src/suite/device-noise-cells.ts) in headless
 * Chromium (`context`), one fresh page per runtime, on the page built in
 * dist/browser and served at `pageUrl` (withParityChromium).
 */
export async function runDeviceNoiseInChromium(
  context: BrowserContext,
  pageUrl: string,
  names: readonly string[],
  runtimes: readonly DeviceNoiseRuntime[] = DEVICE_NOISE_RUNTIMES,
): Promise<DeviceNoiseResult[]> {
  const results: DeviceNoiseResult[] = [];
  for (const runtime of runtimes) {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await page.goto(pageUrl, { waitUntil: 'load' });
      page.setDefaultTimeout(300_000);
      const evaluate = ([id, fixtures]: [typeof runtime, string[]]) => (window as unknown as DeviceNoisePage).runDeviceNoise(id, fixtures);
      results.push(await page.evaluate(evaluate, [runtime, [...names]] as [typeof runtime, string[]]));
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      const reason = `the page failed: ${message}${errors.length ? ` (${errors.slice(-2).join(' | ')})` : ''}`;
      results.push({ runtime, column: `${runtime}@chromium`, status: 'error', maps: [], reason });
    } finally {
      await page.close();
    }
  }
  return results;
}

/** The cells as lines of text. */
export function formatDeviceNoise(results: readonly DeviceNoiseResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`${result.column}: ${result.status}${result.reason ? ` — ${result.reason}` : ''}`);
    const { agreement } = result;
    if (agreement) {
      const first = agreement.firstMismatch ? ` (first difference: ${agreement.firstMismatch})` : '';
      lines.push(`  Philox words: ${agreement.words - agreement.wordMismatches} of ${agreement.words} equal core's${first}`);
      lines.push(
        `  normals: largest difference from core's over ${agreement.normals}: ${agreement.worstUlps.toFixed(1)} ulps, ${agreement.worstAbsolute.toExponential(2)} absolute`,
      );
    }
    for (const map of result.maps) {
      const figure =
        map.relativeMaxError === undefined
          ? map.reason
          : `relative max error ${map.relativeMaxError.toExponential(2)} to PyTorch (tolerance ${map.tolerance})`;
      lines.push(`  ${map.fixture}/${map.method}: ${map.status}, ${figure}, ${map.describedCalls ?? 0} calls with the noise described`);
    }
  }
  return lines.join('\n');
}
