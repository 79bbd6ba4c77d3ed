import { formatShape, type HostTensor } from '@saliency/core';
import {
  renderSeries,
  renderSeriesSvg,
  seriesShape,
  toSeries,
  type ColormapKind,
  type SeriesPlotOptions,
  type TimeAxis,
} from '@saliency/core/visualize';
import { CliError } from './errors.js';
import { encodePng } from './image-io.js';

/** How the map is drawn: lanes over time, or a 2-D heatmap. */
export type PlotKind = 'series' | 'image';
export const PLOT_KINDS: readonly PlotKind[] = ['series', 'image'];

/** The command-line options of the series plot. */
export interface SeriesFlags {
  /** Default: `series` for a `.npy` input of shape `[time]` or `[channels, time]` (`[time, channels]` with timeAxis first), else `image`. */
  readonly plot?: PlotKind;
  readonly channelNames?: readonly string[];
  /** Where time is in the input: `last` (`[channels, time]`, default) or `first` (`[time, channels]`). */
  readonly timeAxis?: TimeAxis;
  /** One colour scale for all channels (default) or one per channel. */
  readonly colorScale?: 'shared' | 'per-channel';
  /** Picture width in pixels (default 1600). */
  readonly plotWidth?: number;
  /** Height of one channel's lane in pixels (default 80). */
  readonly laneHeight?: number;
}

const isSvg = (path: string | undefined) => path?.toLowerCase().endsWith('.svg') === true;

/**
 * Chooses the plot for an input of shape `x` (batch axis included), or
 * refuses flags that do not fit it, naming them. `tensorInput` is false for
 * an image file. Runs before any gradient work.
 */
export function choosePlot(
  flags: SeriesFlags,
  x: HostTensor,
  tensorInput: boolean,
  out: string | undefined,
  overlay: string | undefined,
): PlotKind {
  const example = x.shape.slice(1);
  // The batch axis is off already: only [time] and [channels, time] (or [time, channels]) are series.
  const series = tensorInput && example.length <= 2 ? seriesShape(example, flags.timeAxis) : undefined;
  if (!tensorInput && (flags.plot === 'series' || flags.timeAxis !== undefined)) {
    throw new CliError(
      `${flags.plot === 'series' ? '--plot series' : '--time-axis'} needs a time series --input as .npy ([time], [channels, time] or [time, channels]), not an image`,
    );
  }
  const plot = flags.plot ?? (series === undefined ? 'image' : 'series');
  if (plot === 'series' && series === undefined) {
    throw new CliError(
      `--plot series: the input ${formatShape(example)} (without its batch axis) is not a time series; it needs [time], [channels, time], or [time, channels] with --time-axis first`,
    );
  }
  if (plot === 'image') {
    const seriesOnly = [
      ['--channel-names', flags.channelNames],
      ['--color-scale', flags.colorScale],
      ['--plot-width', flags.plotWidth],
      ['--lane-height', flags.laneHeight],
    ] as const;
    for (const [flag, given] of seriesOnly) {
      if (given !== undefined)
        throw new CliError(
          `${flag} applies to the series plot only; this run draws an image (add --plot series for a [channels, time] input)`,
        );
    }
    for (const [flag, path] of [
      ['--out', out],
      ['--overlay', overlay],
    ] as const) {
      if (isSvg(path)) throw new CliError(`${flag}: ${path}: SVG is written for the series plot only; an image heatmap is a .png`);
    }
  }
  if (plot === 'series' && flags.channelNames !== undefined && flags.channelNames.length !== series!.channels) {
    throw new CliError(
      `--channel-names: ${flags.channelNames.length} names (${flags.channelNames.join(',')}) for ${series!.channels} channels in the input ${formatShape(example)}; give one name per channel`,
    );
  }
  return plot;
}

/**
 * Writes the series plots asked for: `out` the attribution alone (a full
 * colour band per channel), `overlay` the input signal drawn over its
 * attribution; each as SVG for a `.svg` path, PNG otherwise.
 */
export function seriesPlots(
  flags: SeriesFlags,
  x: HostTensor,
  map: HostTensor,
  colormap: ColormapKind,
  alpha: number | undefined,
  targets: { out?: string; overlay?: string },
): Array<{ path: string; bytes: Uint8Array | string }> {
  const attribution = toSeries(map.data, map.shape, flags.timeAxis)!;
  const signal = toSeries(x.data, x.shape, flags.timeAxis)!;
  const options: SeriesPlotOptions = {
    colormap,
    ...(flags.channelNames === undefined ? {} : { channelNames: flags.channelNames }),
    ...(flags.colorScale === undefined ? {} : { scale: flags.colorScale }),
    ...(flags.plotWidth === undefined ? {} : { width: flags.plotWidth }),
    ...(flags.laneHeight === undefined ? {} : { laneHeight: flags.laneHeight }),
  };
  const draw = (path: string, withSignal: boolean) => {
    const series = {
      channels: attribution.channels,
      length: attribution.length,
      attribution: attribution.data,
      ...(withSignal ? { signal: signal.data } : {}),
    };
    const plotOptions = withSignal && alpha !== undefined ? { ...options, bandAlpha: alpha } : options;
    return { path, bytes: isSvg(path) ? renderSeriesSvg(series, plotOptions) : encodePng(renderSeries(series, plotOptions)) };
  };
  return [
    ...(targets.out === undefined ? [] : [draw(targets.out, false)]),
    ...(targets.overlay === undefined ? [] : [draw(targets.overlay, true)]),
  ];
}
