// With percentile 100 the largest |R| alone gets the end colour, so the peak is one sample, not a clipped plateau.
import { describe, expect, it } from 'vitest';
import { renderSeries, renderSeriesSvg, toSeries, type RgbaImage, type SeriesMap } from '../src/visualize/index.js';

// A [12, 256] map: lead k has one bump centred at sample PEAK[k], positive on
// even leads and negative on odd ones; the signal is a sine. The checks read
// the picture back pixel by pixel.

const LEADS = ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'];
const C = 12;
const T = 256;
const PEAK = Array.from({ length: C }, (_, k) => 20 + 19 * k); // 20, 39, …, 229
const LANE = 40;
// The label gutter: the longest default name ('10') is 2 glyphs of 5 + 1 blank
// column between, (2 · 6 − 1) · 2 = 22 pixels at scale 2 (lanes ≥ 40), plus 4 each side.
const LEFT = 30;
const WIDTH = LEFT + 1024; // then 4 columns per sample

function ecgLikeMap(amplitude: (k: number) => number = () => 1): SeriesMap {
  const attribution = new Float32Array(C * T);
  const signal = new Float32Array(C * T);
  for (let k = 0; k < C; k++) {
    for (let i = 0; i < T; i++) {
      attribution[k * T + i] = (k % 2 === 0 ? 1 : -1) * amplitude(k) * Math.exp(-((i - PEAK[k]!) ** 2) / (2 * 4 ** 2));
      signal[k * T + i] = Math.sin((2 * Math.PI * i) / 64 + k);
    }
  }
  return { channels: C, length: T, attribution, signal };
}

const pixel = (image: RgbaImage, x: number, y: number) =>
  Array.from(image.data.subarray(4 * (y * image.width + x), 4 * (y * image.width + x) + 3));
/** How far a colour is from white: 0 for white, 765 for black. */
const colourfulness = ([r, g, b]: number[]) => 765 - r! - g! - b!;
/** The sample under column x (4 columns a sample right of the gutter). */
const sampleOf = (x: number) => Math.floor((x - LEFT) / 4);
/** A column in the middle of sample i. */
const columnOf = (i: number) => LEFT + 4 * i + 2;

/** The column of lane k's band (row 1 below its top: above the signal's 75 % range) where `score` is largest. */
function strongestColumn(image: RgbaImage, k: number, score: (rgb: number[]) => number): number {
  let best = LEFT;
  for (let x = LEFT + 1; x < image.width; x++) if (score(pixel(image, x, k * LANE + 1)) > score(pixel(image, best, k * LANE + 1))) best = x;
  return best;
}

describe('renderSeries on a [12, 256] map', () => {
  const image = renderSeries(ecgLikeMap(), { width: WIDTH, laneHeight: LANE, percentile: 100 });

  it('has one lane per lead, separated by gray rules', () => {
    expect([image.width, image.height]).toEqual([WIDTH, C * LANE]);
    const ruleRows: number[] = [];
    for (let y = 0; y < image.height; y++) {
      let rule = true;
      for (let x = 0; x < image.width && rule; x++) rule = pixel(image, x, y).join() === '190,190,190';
      if (rule) ruleRows.push(y);
    }
    expect(ruleRows).toEqual(Array.from({ length: C - 1 }, (_, k) => (k + 1) * LANE));
  });

  it("colours each lane's band most strongly where that lead's map is largest, red for +, blue for −", () => {
    for (let k = 0; k < C; k++) {
      const x = strongestColumn(image, k, colourfulness);
      expect([LEADS[k], sampleOf(x)]).toEqual([LEADS[k], PEAK[k]]);
      const [r, , b] = pixel(image, x, k * LANE + 1);
      expect([LEADS[k], k % 2 === 0 ? r! > b! + 30 : b! > r! + 30]).toEqual([LEADS[k], true]);
      // far from the bump the band is (near) white
      const far = (PEAK[k]! + 128) % T;
      expect(colourfulness(pixel(image, columnOf(far), k * LANE + 1))).toBeLessThan(30);
    }
  });

  it('draws the signal line, coloured at the bump and dark gray where the map is 0', () => {
    // (the band is at most 369 from white, the line at least 600)
    // signal of lead 0 at sample 16: sin(π/2) = 1, its maximum: the line's top at the lane's 10 % row
    const lineRows = (x: number, k: number) => {
      const rows: number[] = [];
      for (let y = k * LANE + 1; y < (k + 1) * LANE; y++) if (colourfulness(pixel(image, x, y)) > 450) rows.push(y);
      return rows;
    };
    const peakRows = lineRows(columnOf(16), 0);
    expect(Math.min(...peakRows)).toBeGreaterThanOrEqual(3);
    expect(Math.min(...peakRows)).toBeLessThanOrEqual(5);
    // far from lead 0's bump (sample 150) the line is dark gray
    const farRow = lineRows(columnOf(150), 0)[0]!;
    expect(pixel(image, columnOf(150), farRow)).toEqual([40, 40, 40]);
    // at the bump (sample 20) the line is red: R well above G and B
    const [r, g, b] = pixel(image, columnOf(20), lineRows(columnOf(20), 0)[0]!);
    expect(r! - Math.max(g!, b!)).toBeGreaterThan(60);
  });

  it('shares one colour scale by default, or scales each lead on its own', () => {
    const weakLast = ecgLikeMap((k) => (k === C - 1 ? 0.05 : 1));
    const shared = renderSeries(weakLast, { width: WIDTH, laneHeight: LANE });
    const perChannel = renderSeries(weakLast, { width: WIDTH, laneHeight: LANE, scale: 'per-channel' });
    const peakOf = (img: RgbaImage, k: number) => colourfulness(pixel(img, columnOf(PEAK[k]!), k * LANE + 1));
    expect(peakOf(shared, C - 1)).toBeLessThan(peakOf(shared, 0) / 5);
    expect(peakOf(perChannel, C - 1)).toBeGreaterThan(peakOf(perChannel, 0) * 0.9);
  });

  it('uses viridis for an unsigned (VarGrad) map: brightest green where the map peaks', () => {
    const unsigned = ecgLikeMap();
    const magnitude = { ...unsigned, attribution: unsigned.attribution.map(Math.abs) };
    const img = renderSeries(magnitude, { width: WIDTH, laneHeight: LANE, colormap: 'sequential', percentile: 100 });
    for (let k = 0; k < C; k++) expect([k, sampleOf(strongestColumn(img, k, (rgb) => rgb[1]!))]).toEqual([k, PEAK[k]]);
  });

  it("writes each lead's name in a white gutter left of its lane (5 × 7 font, doubled for 40-pixel lanes)", () => {
    const named = renderSeries(ecgLikeMap(), { width: WIDTH, laneHeight: LANE, channelNames: LEADS });
    const ink = [40, 40, 40];
    const white = [255, 255, 255];
    // gutter: 'aVR' is (3 · 6 − 1) · 2 = 34 pixels, plus 4 each side = 42
    for (let k = 0; k < C; k++) expect(pixel(named, 41, k * LANE + 20)).toEqual(white);
    expect(pixel(named, 42, 1)).not.toEqual(white); // band (near white, never pure white)
    // 'I' in lane 0 starts at x = 4, y = (40 − 14) / 2 = 13; its top row .###. lights x = 6..11
    expect(pixel(named, 5, 13)).toEqual(white);
    expect(pixel(named, 6, 13)).toEqual(ink);
    expect(pixel(named, 11, 14)).toEqual(ink);
    expect(pixel(named, 12, 13)).toEqual(white);
    // 'V6' in lane 11: V's first row #...# lights x = 4..5 and 12..13 at y = 11 · 40 + 13
    expect(pixel(named, 4, 11 * LANE + 13)).toEqual(ink);
    expect(pixel(named, 8, 11 * LANE + 13)).toEqual(white);
    expect(pixel(named, 12, 11 * LANE + 13)).toEqual(ink);
  });

  it('refuses mismatched names and sizes', () => {
    expect(() => renderSeries(ecgLikeMap(), { channelNames: ['I', 'II'] })).toThrow(/2 channel names \(I, II\) for 12 channels/);
    expect(() => renderSeries({ channels: 12, length: 256, attribution: new Float32Array(10) })).toThrow(
      /need 3072 attribution values; got 10/,
    );
  });
});

describe('renderSeriesSvg', () => {
  const svg = renderSeriesSvg(ecgLikeMap(), {
    width: WIDTH,
    laneHeight: LANE,
    percentile: 100,
    channelNames: [...LEADS.slice(0, 11), 'V6 <x>'],
  });

  it('labels the lanes in order and draws one line per lead', () => {
    const labels = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual([...LEADS.slice(0, 11), 'V6 &#60;x&#62;']);
    expect(svg.match(/<polyline /g)).toHaveLength(C);
    expect(svg.startsWith(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="480"`)).toBe(true);
  });

  it("puts each band's most colourful gradient stop at its lead's peak", () => {
    for (let k = 0; k < C; k++) {
      const stops = [
        ...new RegExp(`<linearGradient id="band${k}"[^>]*>(.*?)</linearGradient>`).exec(svg)![1]!.matchAll(/stop-color="#(\w{6})"/g),
      ];
      expect(stops).toHaveLength(T);
      const rgb = stops.map((m) => [0, 2, 4].map((o) => Number.parseInt(m[1]!.slice(o, o + 2), 16)));
      const best = rgb.reduce((b, c, i) => (colourfulness(c) > colourfulness(rgb[b]!) ? i : b), 0);
      expect([k, best]).toEqual([k, PEAK[k]]);
    }
  });
});

describe('toSeries', () => {
  it('reads [C, T], [T], a batch axis of 1, and [T, C] with timeAxis first', () => {
    const data = [1, 2, 3, 4, 5, 6];
    expect(toSeries(data, [2, 3])).toEqual({ channels: 2, length: 3, data: Float32Array.from(data) });
    expect(toSeries(data, [1, 2, 3])).toEqual({ channels: 2, length: 3, data: Float32Array.from(data) });
    expect(toSeries(data, [6])).toEqual({ channels: 1, length: 6, data: Float32Array.from(data) });
    expect(toSeries(data, [1, 6])).toEqual({ channels: 1, length: 6, data: Float32Array.from(data) });
    // [T = 3, C = 2]: channel 0 is 1, 3, 5
    expect(toSeries(data, [3, 2], 'first')).toEqual({ channels: 2, length: 3, data: Float32Array.from([1, 3, 5, 2, 4, 6]) });
    expect(toSeries(data, [1, 2, 3, 1])).toBeUndefined();
    // [1, 1, 2, 3] is an image's shape (batch, one channel, H, W), not a series
    expect(toSeries(data, [1, 1, 2, 3])).toBeUndefined();
    expect(toSeries(data, [2, 2])).toBeUndefined();
  });
});

describe('a fixed clipping level', () => {
  it('puts maps on one scale: half the level is half-way to the end colour', () => {
    const map: SeriesMap = { channels: 1, length: 2, attribution: Float32Array.from([0.5, 4]) };
    const image = renderSeries(map, { width: 2, laneHeight: 8, level: 1, colormap: 'sequential' });
    // t = 0.5 → viridis stop 4 of 0..8, #21908c; t = 4 / 1 clipped to 1 → #fde725
    expect(pixel(image, 0, 1)).toEqual([0x21, 0x90, 0x8c]);
    expect(pixel(image, 1, 1)).toEqual([0xfd, 0xe7, 0x25]);
    expect(() => renderSeries(map, { level: 0 })).toThrow(/level must be a finite number > 0; got 0/);
  });
});
