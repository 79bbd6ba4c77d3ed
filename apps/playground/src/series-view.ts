import {
  explain,
  hostTensor,
  isSignedMethod,
  methodRule,
  parseMethodName,
  type AttributionOptions,
  type GradientBackend,
} from '@saliency/core';
import { renderSeriesSvg, toSeries } from '@saliency/core/visualize';
import { readSeriesFile } from './series-input.js';

/** The value of the image select that asks for a time series upload. */
export const SERIES = 'series';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page lacks #${id}`);
  return found as T;
}

/** Adds the time-series choice to the input select and shows its controls when chosen. */
export function installSeriesInput(inputSelect: HTMLSelectElement): void {
  inputSelect.add(new Option('Upload a time series (.npy, .csv)…', SERIES));
  inputSelect.addEventListener('change', () => {
    element('series-controls').hidden = inputSelect.value !== SERIES;
  });
}

/** What explaining a series needs from the page: the method, its options, a model, and a status line. */
export interface SeriesRun {
  readonly method: string;
  readonly options: AttributionOptions;
  readonly load: () => Promise<{ readonly backend: GradientBackend; dispose(): Promise<void> }>;
  readonly status: (state: 'done', text: string) => void;
}

/**
 * Explains the uploaded series for the model's predicted class and draws it
 * with core's series plot (SVG: one lane per channel, named from the CSV
 * header or the names field, the signal over its attribution).
 */
export async function explainSeries(run: SeriesRun): Promise<void> {
  const file = element<HTMLInputElement>('series-file').files?.[0];
  if (!file) throw new Error('choose a .npy or .csv time series to upload');
  const timeAxis = element<HTMLSelectElement>('series-layout').value === 'first' ? 'first' : 'last';
  const input = await readSeriesFile(file, timeAxis);
  const typed = element<HTMLInputElement>('series-names').value.trim();
  const names = typed === '' ? input.names : typed.split(',').map((name) => name.trim());
  const model = await run.load();
  try {
    const x = hostTensor(input.data, [1, ...input.shape]);
    const start = performance.now();
    const logits = await model.backend.logits(x);
    const predicted = logits.data.indexOf(Math.max(...logits.data));
    const map = await explain(model.backend, run.method, x, { ...run.options, target: predicted });
    const ms = performance.now() - start;
    const signal = toSeries(input.data, input.shape, timeAxis)!;
    const svg = renderSeriesSvg(
      {
        channels: signal.channels,
        length: signal.length,
        attribution: laneAttribution(run.method, map, timeAxis, signal.channels),
        signal: signal.data,
      },
      {
        colormap: isSignedMethod(run.method) ? 'diverging' : 'sequential',
        ...(names === undefined ? {} : { channelNames: names }),
      },
    );
    const plot = element('series-plot');
    plot.innerHTML = svg; // our own SVG; channel names are escaped by renderSeriesSvg
    element('series-result').hidden = false;
    element('series-caption').textContent = `${run.method} of class ${predicted}, ${signal.channels} channels × ${signal.length} samples`;
    run.status('done', `predicted ${predicted} · ${run.method} on a time series (${model.backend.name}) in ${ms.toFixed(0)} ms`);
  } finally {
    await model.dispose();
  }
}

/**
 * The map as one attribution per channel and time step. A layer method's map
 * (Grad-CAM of a series) has one channel, `[1, 1, T]` or `[1, T, 1]`: one
 * value per time step, drawn under every lane alike.
 */
function laneAttribution(
  method: string,
  map: { data: Float32Array; shape: readonly number[] },
  timeAxis: 'first' | 'last',
  channels: number,
): Float32Array {
  if (methodRule(parseMethodName(method).base).layer === undefined) return toSeries(map.data, map.shape, timeAxis)!.data;
  const length = map.data.length;
  const lanes = new Float32Array(channels * length);
  for (let c = 0; c < channels; c++) lanes.set(map.data, c * length);
  return lanes;
}
