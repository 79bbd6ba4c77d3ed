/**
 * Visualisation of attribution maps: normalisation, channel aggregation,
 * colormaps, heatmaps, overlays, and time-series plots (one lane per channel,
 * the signal over its attribution). Pure functions over typed arrays with no
 * dependencies; they run in browsers and in Node. Images are ImageData-shaped
 * `{ width, height, data: Uint8ClampedArray }` (RGBA).
 */
export type { RgbaImage, ScalarMap } from './image.js';
export { percentile, clipLevel, normalizeSymmetric, normalizeUnsigned, type NormalizeOptions } from './normalize.js';
export { aggregateChannels, AGGREGATIONS, type Aggregation, type ChannelLayout } from './aggregate.js';
export { DIVERGING, SEQUENTIAL, sampleColormap, type Colormap, type Rgb } from './colormap.js';
export { renderHeatmap, type ColormapKind, type HeatmapOptions } from './heatmap.js';
export { overlay, grayToRgba } from './overlay.js';
export { colormapPositions } from './heatmap.js';
export { seriesShape, toSeries, type SeriesMap, type SeriesPlotOptions, type TimeAxis } from './series.js';
export { renderSeries } from './series-raster.js';
export { renderSeriesSvg } from './series-svg.js';
export { NUMBER_FONT, rasterizeText, TEXT_FONT, textWidth, type BitmapFont } from './bitmap-font.js';
