import { describe, expect, it } from 'vitest';
import { reportHtml } from '../src/node/report-html.js';
import type { FixtureInfo, SuiteResult } from '../src/suite/results.js';
import { decode } from './png-decode.js';

// A 2-D fixture (NCHW, [2, 2, 4, 4]) with hand-made references: a signed
// gradient (negative on the left half, positive on the right) and a Grad-CAM
// map ([B, 1, 4, 4], never negative, 0 on the top row). The report must draw
// the signed map on the diverging scale (blue < 0 < red) and Grad-CAM on
// viridis (its 0 is viridis's first colour, #440154).

const size = 2 * 16;
const gradient = Array.from({ length: 2 * size }, (_, e) => {
  const x = e % 4;
  return x < 2 ? -1 - x : x; // channel sum: left −2, −4; right +4, +6 (both channels alike)
});
const camValues = Array.from({ length: 2 * 16 }, (_, e) => Math.floor((e % 16) / 4)); // rows 0, 1, 2, 3
const fixture: FixtureInfo = {
  name: 'image2d',
  inputShape: [2, 2, 4, 4],
  layouts: { onnx: 'NCHW', tfjs: 'NHWC' },
  numSamples: 4,
  steps: 8,
  referenceSources: {},
  referenceMaps: { gradient, grad_cam: camValues },
};
const result: SuiteResult = { columns: [], fixtures: [fixture], cells: [], ms: 0 };

function picture(html: string, alt: string) {
  const match = new RegExp(`<img class="heatmap" alt="${alt}" src="data:image/png;base64,([^"]+)"`).exec(html);
  expect(match, alt).not.toBeNull();
  const { width, rgba } = decode(Buffer.from(match![1]!, 'base64'));
  expect(width).toBe(4);
  return (x: number, y: number) => [rgba[4 * (y * 4 + x)]!, rgba[4 * (y * 4 + x) + 1]!, rgba[4 * (y * 4 + x) + 2]!];
}

describe('the parity report on a 2-D fixture', () => {
  const html = reportHtml(result, { generated: 'now', versions: {} });

  it('draws a signed method on the diverging scale: blue where negative, red where positive', () => {
    const at = picture(html, 'image2d gradient reference');
    for (let y = 0; y < 4; y++) {
      // (viridis's dark purple, #440154, is blue by only 16)
      for (const x of [0, 1]) expect(at(x, y)[2]!, `(${x}, ${y}) blue`).toBeGreaterThan(at(x, y)[0]! + 50);
      for (const x of [2, 3]) expect(at(x, y)[0]!, `(${x}, ${y}) red`).toBeGreaterThan(at(x, y)[2]! + 50);
    }
    // the larger magnitude is the stronger colour: farther from white
    const fromWhite = ([r, g, b]: number[]) => 765 - r! - g! - b!;
    expect(fromWhite(at(1, 0))).toBeGreaterThan(fromWhite(at(0, 0)));
    expect(fromWhite(at(3, 0))).toBeGreaterThan(fromWhite(at(2, 0)));
  });

  it('draws Grad-CAM, never negative, on viridis: its zeros dark purple, brighter as it grows', () => {
    const at = picture(html, 'image2d grad_cam reference');
    for (let x = 0; x < 4; x++) expect(at(x, 0)).toEqual([0x44, 0x01, 0x54]);
    const luminance = ([r, g, b]: number[]) => 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    for (let y = 1; y < 4; y++) expect(luminance(at(0, y))).toBeGreaterThan(luminance(at(0, y - 1)));
  });
});
