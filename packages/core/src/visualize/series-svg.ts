import type { Rgb } from './colormap.js';
import { layoutSeries, sampleX, SERIES_BACKGROUND, SERIES_RULE, type SeriesMap, type SeriesPlotOptions } from './series.js';

/** Width of the label gutter left of the lanes, in pixels. */
const GUTTER = 56;

const hex = ([r, g, b]: Rgb) => `#${((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1)}`;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A horizontal gradient with one stop per sample centre, across the plot area. */
function gradient(id: string, colours: readonly Rgb[], x: (i: number) => number, x0: number, x1: number): string {
  const stops = colours.map((colour, i) => `<stop offset="${((x(i) - x0) / (x1 - x0)).toFixed(5)}" stop-color="${hex(colour)}"/>`);
  return `<linearGradient id="${id}" gradientUnits="userSpaceOnUse" x1="${x0}" y1="0" x2="${x1}" y2="0">${stops.join('')}</linearGradient>`;
}

/**
 * Draws a series plot as SVG text: the same lanes, band and coloured signal
 * line as `renderSeries`, right of a 56-pixel gutter holding each channel's
 * name. Band and line colours change smoothly between sample centres (one
 * gradient stop per sample), where the raster holds each sample's colour
 * over its columns.
 */
export function renderSeriesSvg(series: SeriesMap, options: SeriesPlotOptions = {}): string {
  const layout = layoutSeries(series, options, GUTTER);
  const { width, height, laneHeight, left, channels, length, names, band, line, y } = layout;
  const x = (i: number) => sampleX(layout, i);
  const right = left + layout.plotWidth;
  const defs: string[] = [];
  const body: string[] = [`<rect width="${width}" height="${height}" fill="${hex(SERIES_BACKGROUND)}"/>`];
  for (let c = 0; c < channels; c++) {
    const top = c * laneHeight;
    const lane = (colours: readonly Rgb[]) => colours.slice(c * length, (c + 1) * length);
    defs.push(gradient(`band${c}`, lane(band), x, left, right));
    body.push(`<rect x="${left}" y="${top}" width="${layout.plotWidth}" height="${laneHeight}" fill="url(#band${c})"/>`);
    if (y !== undefined) {
      defs.push(gradient(`line${c}`, lane(line), x, left, right));
      const points = Array.from({ length }, (_, i) => `${x(i).toFixed(2)},${y[c * length + i]!.toFixed(2)}`);
      body.push(`<polyline points="${points.join(' ')}" fill="none" stroke="url(#line${c})" stroke-width="2" stroke-linejoin="round"/>`);
    }
    body.push(
      `<text x="${left - 8}" y="${top + laneHeight / 2}" text-anchor="end" dominant-baseline="middle" font-family="sans-serif" font-size="16">${escapeXml(names[c]!)}</text>`,
    );
    if (c > 0) body.push(`<line x1="0" y1="${top}" x2="${width}" y2="${top}" stroke="${hex(SERIES_RULE)}"/>`);
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n` +
    `<defs>${defs.join('\n')}</defs>\n${body.join('\n')}\n</svg>\n`
  );
}
