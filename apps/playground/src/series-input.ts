import { parseNpy } from '@saliency/core';
import { seriesShape, type TimeAxis } from '@saliency/core/visualize';

/**
 * An uploaded time series, as the model takes it (`shape` without the batch
 * axis: `[channels, time]`, or `[time, channels]` for `timeAxis: 'first'`),
 * with the channel names a CSV header gave.
 */
export interface SeriesInput {
  readonly data: Float32Array;
  readonly shape: number[];
  readonly timeAxis: TimeAxis;
  readonly names: string[] | undefined;
}

const SEPARATOR = /[,;\t]/;

/**
 * Reads a CSV time series: one row per time step, one column per channel,
 * comma-, semicolon- or tab-separated, optionally under a header row of
 * channel names (a first row that is not all numbers). Returns the values
 * time-major (`[time, channels]`, as the file has them).
 */
export function parseSeriesCsv(
  text: string,
  name: string,
): { data: Float32Array; time: number; channels: number; names: string[] | undefined } {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (lines.length === 0) throw new Error(`${name}: the file is empty`);
  const cells = (line: string) => line.split(SEPARATOR).map((cell) => cell.trim());
  const isNumber = (cell: string) => cell !== '' && Number.isFinite(Number(cell));
  const first = cells(lines[0]!);
  const names = first.every(isNumber) ? undefined : first;
  const rows = names === undefined ? lines : lines.slice(1);
  const channels = first.length;
  if (rows.length === 0) throw new Error(`${name}: a header (${first.join(', ')}) but no rows of values`);
  const data = new Float32Array(rows.length * channels);
  rows.forEach((line, t) => {
    const row = cells(line);
    const lineNumber = t + 1 + (names === undefined ? 0 : 1);
    if (row.length !== channels) throw new Error(`${name}: line ${lineNumber} has ${row.length} values; the first line has ${channels}`);
    row.forEach((cell, c) => {
      if (!isNumber(cell)) throw new Error(`${name}: line ${lineNumber}, column ${c + 1}: "${cell}" is not a finite number`);
      data[t * channels + c] = Number(cell);
    });
  });
  return { data, time: rows.length, channels, names };
}

/**
 * Reads an uploaded `.npy` (shape `[time]`, `[channels, time]` or, with
 * `timeAxis: 'first'`, `[time, channels]`; a batch axis of 1 allowed) or
 * `.csv` file (see `parseSeriesCsv`) into the layout `timeAxis` says the
 * model takes.
 */
export async function readSeriesFile(file: File, timeAxis: TimeAxis): Promise<SeriesInput> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (file.name.toLowerCase().endsWith('.csv')) {
    const csv = parseSeriesCsv(new TextDecoder().decode(bytes), file.name);
    if (timeAxis === 'first') return { data: csv.data, shape: [csv.time, csv.channels], timeAxis, names: csv.names };
    const data = new Float32Array(csv.data.length);
    for (let t = 0; t < csv.time; t++) for (let c = 0; c < csv.channels; c++) data[c * csv.time + t] = csv.data[t * csv.channels + c]!;
    return { data, shape: [csv.channels, csv.time], timeAxis, names: csv.names };
  }
  const array = parseNpy(bytes, file.name);
  const dims = seriesShape(array.shape, timeAxis);
  if (dims === undefined) {
    throw new Error(
      `${file.name}: shape [${array.shape.join(', ')}] is not a time series; give [time], [channels, time] or [time, channels] (time axis first)`,
    );
  }
  const shape = timeAxis === 'first' ? [dims.length, dims.channels] : [dims.channels, dims.length];
  return { data: array.data, shape, timeAxis, names: undefined };
}
