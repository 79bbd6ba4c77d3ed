import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

const ECG = fileURLToPath(new URL('../../../examples/ecg/', import.meta.url));
/** The bundled time-series example's model, record and lead names (examples/ecg). */
export const ecgExample = {
  model: `${ECG}model/ecg.onnx`,
  csv: `${ECG}records/anterior-ste.csv`,
  leads: ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'],
};

/** Uploads an ONNX model and a time series, explains it, and returns the status line and the drawn SVG. */
export async function explainSeriesOnce(page: Page, method: string): Promise<{ state: string | null; status: string; svg: string }> {
  await page.selectOption('#model', 'upload');
  await page.setInputFiles('#model-file', ecgExample.model);
  await page.selectOption('#image', 'series');
  await page.setInputFiles('#series-file', ecgExample.csv);
  await page.selectOption('#series-layout', 'last');
  await page.selectOption('#method', method);
  await page.selectOption('#runtime', 'onnx-wasm');
  await page.click('#explain');
  await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]', { timeout: 90_000 });
  return {
    state: await page.getAttribute('#status', 'data-state'),
    status: (await page.textContent('#status')) ?? '',
    svg: await page.innerHTML('#series-plot'),
  };
}

/** Per lane of a series SVG: the summed distance from white of its band's gradient stops (its attribution's strength). */
export function laneStrengths(svg: string, lanes: number): number[] {
  return Array.from({ length: lanes }, (_, k) => {
    const gradient = new RegExp(`<linearGradient id="band${k}"[^>]*>(.*?)</linearGradient>`).exec(svg)?.[1] ?? '';
    return [...gradient.matchAll(/stop-color="#(\w{6})"/g)].reduce((sum, m) => {
      const [r, g, b] = [0, 2, 4].map((o) => Number.parseInt(m[1]!.slice(o, o + 2), 16));
      return sum + 765 - r! - g! - b!;
    }, 0);
  });
}
