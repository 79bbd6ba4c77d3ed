import { describe, expect, it } from 'vitest';
import { reportHtml } from '../src/node/report-html.js';
import type { FixtureInfo, SuiteResult } from '../src/suite/results.js';
import { decode } from './png-decode.js';

// A 1-D fixture (NCW, [2, 3, 16]) whose gradient reference peaks at a known
// sample of each channel: the report must draw it as a series plot, one lane
// per channel, coloured most strongly at that sample.

const PEAK = [3, 8, 13];
const size = 3 * 16;
const reference = Array.from({ length: 2 * size }, (_, e) => {
  const [c, i] = [Math.floor((e % size) / 16), e % 16];
  return e < size && i === PEAK[c] ? 2 : e < size ? 0.1 : 0;
});
const fixture: FixtureInfo = {
  name: 'series1d',
  inputShape: [2, 3, 16],
  layouts: { onnx: 'NCW', tfjs: 'NWC' },
  numSamples: 4,
  steps: 8,
  referenceSources: {},
  referenceMaps: { gradient: reference, vargrad: reference },
  input: Array.from({ length: 2 * size }, (_, e) => Math.sin(e)),
};
// One column whose gradient is half the reference: on the reference's scale its peak is paler.
/** The label gutter of a 28-pixel lane: the names '1'..'3' are one 5-pixel glyph (scale 1), plus 4 each side. */
const LEFT = 13;
const result: SuiteResult = {
  columns: [
    {
      id: 'half',
      runtime: 'onnx-node',
      library: 'ONNX Runtime',
      device: 'cpu',
      environment: 'node',
      deviceClass: 'float32-exact',
      tolerance: 1e-5,
    },
  ],
  fixtures: [fixture],
  cells: [
    {
      fixture: 'series1d',
      row: 'gradient',
      column: 'half',
      status: 'fail',
      tolerance: 1e-5,
      relativeMaxError: 0.5,
      cosine: 1,
      top5Agreement: 1,
      ms: 1,
      map: reference.map((v) => v / 2),
    },
  ],
  ms: 0,
};

describe('the parity report on a 1-D fixture', () => {
  it('draws each method as a series plot: one lane per channel, strongest at the map peak', () => {
    const html = reportHtml(result, { generated: 'now', versions: {} });
    const images = [...html.matchAll(/<img class="series" alt="([^"]*)" src="data:image\/png;base64,([^"]+)"/g)];
    expect(images.map((m) => m[1])).toEqual(['series1d gradient reference', 'series1d gradient half', 'series1d vargrad reference']);
    const peakRed = (base64: string) => {
      const { width, rgba } = decode(Buffer.from(base64, 'base64'));
      const x = LEFT + Math.floor((PEAK[0]! + 0.5) * ((width - LEFT) / 16));
      return 255 * 3 - rgba[4 * (width + x)]! - rgba[4 * (width + x) + 1]! - rgba[4 * (width + x) + 2]!;
    };
    // full strength (t = 1: #67001f over white at 0.6) against half (t = 0.75: a lighter red)
    expect(peakRed(images[1]![2]!)).toBeLessThan(0.8 * peakRed(images[0]![2]!));
    for (const [, alt, base64] of images) {
      // gradient (signed): diverging, strongest = farthest from white; vargrad: viridis, strongest = greenest
      const sequential = alt!.includes('vargrad');
      const { width, height, rgba } = decode(Buffer.from(base64!, 'base64'));
      expect([width, height]).toEqual([384, 3 * 28]);
      for (let c = 0; c < 3; c++) {
        // row 1 of lane c (above the signal)
        const row = c * 28 + 1;
        const at = (x: number, k: number) => rgba[4 * (row * width + x) + k]!;
        const strength = (x: number) => (sequential ? at(x, 1) : 765 - at(x, 0) - at(x, 1) - at(x, 2));
        let best = LEFT;
        for (let x = LEFT + 1; x < width; x++) if (strength(x) > strength(best)) best = x;
        // the sample under the column's centre
        expect([c, Math.floor(((best - LEFT + 0.5) * 16) / (width - LEFT))]).toEqual([c, PEAK[c]]);
      }
    }
  });
});
