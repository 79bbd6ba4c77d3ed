import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIVERGING, sampleColormap } from '@saliency/core/visualize';
import { colourBarHeight } from '../src/legend.js';
import { mnist, saliency } from './helpers.js';

// A 1024 × 768 photo of a drawn digit: the bundled MNIST "3" scaled up 27×
// (nearest neighbour) to 756 × 756 and centred on a black canvas, saved as a
// JPEG. With --fit center-crop the model sees the middle 768 × 768, so the
// digit fills its input as an MNIST digit does; the map must come back at the
// photo's size, with its heat on the strokes of the drawn digit. The method is
// VarGrad × input, whose map is positive (red, hot) where the input is ink and
// the model is sensitive to it, and negative (blue) on the dark background;
// plain VarGrad also lights the background where a stroke would change the class.

const W = 1024;
const H = 768;
const FACTOR = 27;
const dir = mkdtempSync(join(tmpdir(), 'saliency-photo-'));
const photo = join(dir, 'digit.jpg');
/** The canvas's gray value per pixel, before JPEG compression. */
const canvas = new Uint8Array(W * H);

function drawCanvas(): void {
  const digit = PNG.sync.read(readFileSync(mnist.digit('3-0')));
  const size = digit.width * FACTOR;
  const left = (W - size) / 2;
  const top = (H - size) / 2;
  const rgba = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const inside = x >= left && x < left + size && y >= top && y < top + size;
      const gray = inside ? digit.data[4 * (Math.floor((y - top) / FACTOR) * digit.width + Math.floor((x - left) / FACTOR))]! : 0;
      canvas[y * W + x] = gray;
      rgba.fill(gray, 4 * (y * W + x), 4 * (y * W + x) + 3);
      rgba[4 * (y * W + x) + 3] = 255;
    }
  }
  writeFileSync(photo, jpeg.encode({ width: W, height: H, data: rgba }, 92).data);
}

/** Position of a heatmap colour on the diverging colormap, 0 (most negative) to 1 (hottest): the nearest of 1024 samples. */
const palette = Array.from({ length: 1024 }, (_, i) => sampleColormap(DIVERGING, i / 1023));
function heat(data: Uint8Array, p: number): number {
  let best = 0;
  let bestDistance = Infinity;
  for (let i = 0; i < palette.length; i++) {
    const [r, g, b] = palette[i]!;
    const d = (data[4 * p]! - r) ** 2 + (data[4 * p + 1]! - g) ** 2 + (data[4 * p + 2]! - b) ** 2;
    if (d < bestDistance) [best, bestDistance] = [i, d];
  }
  return best / 1023;
}

const args = () => [
  '--model',
  mnist.onnx,
  '--input',
  photo,
  '--preset',
  mnist.preset,
  '--fit',
  'center-crop',
  '--method',
  'vargrad_x_input',
  '--num-samples',
  '16',
  '--seed',
  '0',
];
let result: ReturnType<typeof saliency>;

beforeAll(() => {
  drawCanvas();
  result = saliency([...args(), '--no-legend', '--out', join(dir, 'heatmap.png'), '--overlay', join(dir, 'overlay.png')]);
});

describe('saliency on a 1024 × 768 JPEG of a drawn digit', () => {
  it("explains the digit it shows and writes the overlay and heatmap at the photo's size", () => {
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^explained class 3 \(probability (0\.\d{3}|1\.000)\) with vargrad_x_input on onnx-node$/m);
    for (const name of ['overlay.png', 'heatmap.png']) {
      const png = PNG.sync.read(readFileSync(join(dir, name)));
      expect([name, png.width, png.height]).toEqual([name, W, H]);
    }
  });

  it('puts the hottest pixels on the strokes of the drawn digit', () => {
    const heatmap = PNG.sync.read(readFileSync(join(dir, 'heatmap.png')));
    // Sample every 4th pixel of the part of the photo the model saw (the middle 768 columns).
    const stroke: number[] = [];
    const background: number[] = [];
    for (let y = 0; y < H; y += 4) {
      for (let x = (W - H) / 2; x < (W + H) / 2; x += 4) {
        const gray = canvas[y * W + x]!;
        if (gray > 128) stroke.push(heat(heatmap.data, y * W + x));
        else if (gray === 0) background.push(heat(heatmap.data, y * W + x));
      }
    }
    expect(stroke.length).toBeGreaterThan(1000);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(mean(stroke)).toBeGreaterThan(0.5);
    expect(mean(background)).toBeLessThan(0.5);
    // Of the hottest tenth of the sampled pixels, nearly all lie on strokes, though strokes are under a third of the
    // picture. (Mapped back by stretching the 28 × 28 map over the whole photo, ignoring the crop, only ~70 % do.)
    const all = [...stroke.map((t) => ({ t, ink: true })), ...background.map((t) => ({ t, ink: false }))].sort((a, b) => b.t - a.t);
    const hottest = all.slice(0, Math.round(all.length / 10));
    expect(stroke.length / all.length).toBeLessThan(0.3);
    expect(hottest.filter((p) => p.ink).length / hottest.length).toBeGreaterThan(0.9);
  });

  it('adds a colour bar under the picture unless --no-legend, and takes another size with --size', () => {
    const [w, h] = [512, 384];
    const withBar = saliency([...args(), '--num-samples', '2', '--size', `${w}x${h}`, '--out', join(dir, 'legend.png')]);
    expect(withBar.status).toBe(0);
    const png = PNG.sync.read(readFileSync(join(dir, 'legend.png')));
    expect([png.width, png.height]).toEqual([w, h + colourBarHeight(w)]);
    // The bar runs from the diverging map's first colour on the left to its last on the right
    // (at 512 px wide: cells of 3 px, the bar 6 px in and 6 rows below the picture).
    const row = h + Math.round(colourBarHeight(w) / 4);
    const margin = 6;
    expect(heat(png.data, row * w + margin + 1)).toBeLessThan(0.02);
    expect(heat(png.data, row * w + w - margin - 2)).toBeGreaterThan(0.98);
  });
});
