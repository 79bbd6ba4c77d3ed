import type { Rgb } from './colormap.js';
import { sampleColormap } from './colormap.js';
import { colormapPositions, type HeatmapOptions } from './heatmap.js';

/** Where the time axis of a 2-D series is: `[channels, time]` (default) or `[time, channels]`. */
export type TimeAxis = 'last' | 'first';

/**
 * A multichannel time series with one attribution value per sample,
 * channel-major: `attribution[c * length + i]` is channel `c` at time `i`,
 * and so is `signal` when it is given.
 */
export interface SeriesMap {
  readonly channels: number;
  readonly length: number;
  readonly attribution: Float32Array;
  readonly signal?: Float32Array;
}

/**
 * The channels and length of a tensor read as a time series: `shape` is
 * `[time]`, `[channels, time]` or (with `timeAxis: 'first'`)
 * `[time, channels]`, or one of these behind a batch axis of 1 (`[1, C, T]`,
 * `[1, T]` as one channel). `undefined` for any other shape, which is not a
 * time series.
 */
export function seriesShape(shape: readonly number[], timeAxis: TimeAxis = 'last'): { channels: number; length: number } | undefined {
  const dims = [...shape];
  if (dims.length === 3 && dims[0] === 1) dims.shift();
  if (dims.length === 2 && dims[0] === 1 && timeAxis === 'last') dims.shift();
  if (dims.length === 1) return { channels: 1, length: dims[0]! };
  if (dims.length !== 2) return undefined;
  return timeAxis === 'last' ? { channels: dims[0]!, length: dims[1]! } : { channels: dims[1]!, length: dims[0]! };
}

/**
 * Puts a tensor's data in the channel-major order of `SeriesMap`, its shape
 * read by `seriesShape`; `undefined` when it is not a time series.
 */
export function toSeries(
  data: ArrayLike<number>,
  shape: readonly number[],
  timeAxis: TimeAxis = 'last',
): { channels: number; length: number; data: Float32Array } | undefined {
  const dims = seriesShape(shape, timeAxis);
  if (dims === undefined || dims.channels * dims.length !== data.length) return undefined;
  const { channels, length } = dims;
  if (timeAxis === 'last' || channels === 1) return { channels, length, data: Float32Array.from(data) };
  const out = new Float32Array(data.length);
  for (let i = 0; i < length; i++) for (let c = 0; c < channels; c++) out[c * length + i] = data[i * channels + c]!;
  return { channels, length, data: out };
}

/** How a series plot looks; every field has a default. */
export interface SeriesPlotOptions extends HeatmapOptions {
  /** One colour scale for all channels (`shared`, default: lanes compare) or one per channel. */
  readonly scale?: 'shared' | 'per-channel';
  /** Lane labels, top to bottom (left of the lanes; in a raster in a 5 × 7 bitmap font). Default `1, 2, …`. */
  readonly channelNames?: readonly string[];
  /** Picture width in pixels. Default 1600. */
  readonly width?: number;
  /** Height of one channel's lane in pixels. Default 80. */
  readonly laneHeight?: number;
  /**
   * How strongly the attribution band tints the lane behind the signal,
   * 0–1. Default 0.6 with a signal, 1 without one (the band is the picture).
   */
  readonly bandAlpha?: number;
}

/** Everything both the raster and the SVG draw, worked out once. */
export interface SeriesLayout {
  readonly width: number;
  readonly height: number;
  readonly laneHeight: number;
  /** x of the plot area's left edge (the label gutter is left of it) and its width. */
  readonly left: number;
  readonly plotWidth: number;
  readonly names: readonly string[];
  /** Per channel and sample (channel-major): the band colour, already blended with white. */
  readonly band: readonly Rgb[];
  /** Per channel and sample: the signal line's colour, dark where the attribution is weak. */
  readonly line: readonly Rgb[];
  /** Per channel and sample: the line's y in pixels, or undefined without a signal. */
  readonly y: Float32Array | undefined;
  readonly channels: number;
  readonly length: number;
}

export const SERIES_BACKGROUND: Rgb = [255, 255, 255];
/** Lane separators. */
export const SERIES_RULE: Rgb = [190, 190, 190];
/** The signal where the attribution is 0. */
const LINE_DARK: Rgb = [40, 40, 40];
/** Fraction of a lane's height that the signal's range fills: a margin of band stays above and below it. */
const SIGNAL_FILL = 0.75;

function mix(a: Rgb, b: Rgb, f: number): Rgb {
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}

/** The lanes' labels: `options.channelNames`, checked to be one per channel, or `1, 2, …`. */
export function channelNamesOf(channels: number, options: SeriesPlotOptions): readonly string[] {
  const names = options.channelNames ?? Array.from({ length: channels }, (_, c) => String(c + 1));
  if (names.length !== channels) {
    throw new RangeError(
      `series plot: ${names.length} channel names (${names.join(', ')}) for ${channels} channels; give one name per channel`,
    );
  }
  return names;
}

/**
 * Lays a series out as lanes, one per channel, top to bottom, and colours
 * it: a sample's attribution `R` gets the colormap position `t` of
 * `colormapPositions` (over the whole map, or per channel with
 * `scale: 'per-channel'`), the band the colormap's colour blended over white
 * by `bandAlpha`, the line `mix(dark gray, colour, strength)`, so that it is
 * coloured where the attribution is strong and dark gray where it is 0. The
 * signal fills 75 % of its lane's height, scaled per channel. `left` is the
 * label gutter's width, left of the lanes' plot area.
 */
export function layoutSeries(series: SeriesMap, options: SeriesPlotOptions, left: number): SeriesLayout {
  const { channels, length, attribution, signal } = series;
  if (!(Number.isInteger(channels) && Number.isInteger(length) && channels >= 1 && length >= 1)) {
    throw new RangeError(`series plot: channels and length must be integers ≥ 1; got ${channels} × ${length}`);
  }
  if (attribution.length !== channels * length) {
    throw new RangeError(
      `series plot: ${channels} channels × ${length} samples need ${channels * length} attribution values; got ${attribution.length}`,
    );
  }
  if (signal !== undefined && signal.length !== attribution.length) {
    throw new RangeError(`series plot: the signal has ${signal.length} values but the attribution ${attribution.length}; they must match`);
  }
  const width = options.width ?? 1600;
  const laneHeight = options.laneHeight ?? 80;
  if (!(Number.isInteger(width) && width > left && Number.isInteger(laneHeight) && laneHeight >= 8)) {
    throw new RangeError(`series plot: width must be an integer > ${left} and laneHeight an integer ≥ 8; got ${width} and ${laneHeight}`);
  }
  const names = channelNamesOf(channels, options);
  const bandAlpha = options.bandAlpha ?? (signal === undefined ? 1 : 0.6);
  if (!(bandAlpha >= 0 && bandAlpha <= 1)) throw new RangeError(`series plot: bandAlpha must be in [0, 1]; got ${bandAlpha}`);

  const positions =
    options.scale === 'per-channel'
      ? Array.from({ length: channels }, (_, c) => colormapPositions(attribution.subarray(c * length, (c + 1) * length), options))
      : [colormapPositions(attribution, options)];
  const band: Rgb[] = [];
  const line: Rgb[] = [];
  for (let c = 0; c < channels; c++) {
    const { colormap, t, strength } = positions.length === 1 ? positions[0]! : positions[c]!;
    const offset = positions.length === 1 ? c * length : 0;
    for (let i = 0; i < length; i++) {
      const colour = sampleColormap(colormap, t[offset + i]!);
      band.push(mix(SERIES_BACKGROUND, colour, bandAlpha));
      line.push(mix(LINE_DARK, colour, strength[offset + i]!));
    }
  }

  let y: Float32Array | undefined;
  if (signal !== undefined) {
    y = new Float32Array(signal.length);
    for (let c = 0; c < channels; c++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < length; i++) {
        const v = signal[c * length + i]!;
        if (Number.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
      const middle = (c + 0.5) * laneHeight;
      const span = hi > lo ? hi - lo : 1;
      const centre = Number.isFinite(lo) ? (hi + lo) / 2 : 0;
      for (let i = 0; i < length; i++) {
        const v = signal[c * length + i]!;
        y[c * length + i] = middle - ((Number.isFinite(v) ? v - centre : 0) / span) * SIGNAL_FILL * laneHeight;
      }
    }
  }
  return { width, height: channels * laneHeight, laneHeight, left, plotWidth: width - left, names, band, line, y, channels, length };
}

/** The x (pixels) of sample `i`'s centre. */
export function sampleX(layout: SeriesLayout, i: number): number {
  return layout.left + ((i + 0.5) * layout.plotWidth) / layout.length;
}
