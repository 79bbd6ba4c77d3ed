import { withChromium } from '@saliency/dev-support/chromium';
import {
  DEVICE_NOISE_RUNTIMES,
  type DeviceNoisePage,
  type DeviceNoiseResult,
  type DeviceNoiseRuntime,
} from '../suite/device-noise-cells.js';
import { FIXTURES_DIR } from './fixture-files.js';
import { PAGE_DIR } from './run-browser-suite.js';
import { servedFolders, startStaticServer } from './static-server.js';

/**
 * The device-noise cells (src/suite/device-noise-cells.ts) in headless
 * Chromium, one fresh page per runtime, on the page built in dist/browser.
 */
export async function runDeviceNoiseInChromium(
  names: readonly string[],
  runtimes: readonly DeviceNoiseRuntime[] = DEVICE_NOISE_RUNTIMES,
): Promise<DeviceNoiseResult[]> {
  const server = await startStaticServer(servedFolders(PAGE_DIR, FIXTURES_DIR));
  const results: DeviceNoiseResult[] = [];
  try {
    await withChromium(async (context) => {
      for (const runtime of runtimes) {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        try {
          await page.goto(server.url, { waitUntil: 'load' });
          page.setDefaultTimeout(300_000);
          const evaluate = ([id, fixtures]: [typeof runtime, string[]]) =>
            (window as unknown as DeviceNoisePage).runDeviceNoise(id, fixtures);
          results.push(await page.evaluate(evaluate, [runtime, [...names]] as [typeof runtime, string[]]));
        } catch (error) {
          const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
          const reason = `the page failed: ${message}${errors.length ? ` (${errors.slice(-2).join(' | ')})` : ''}`;
          results.push({ runtime, column: `${runtime}@chromium`, status: 'error', maps: [], reason });
        } finally {
          await page.close();
        }
      }
    });
  } finally {
    await server.close();
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
