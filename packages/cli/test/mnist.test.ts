import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explain, fillStandardNormal, hostTensor, type HostTensor } from '@saliency/core';
import { createOnnxBackend } from '@saliency/backend-onnx';
import { colourBarHeight } from '../src/legend.js';
import { readNpy, writeNpy } from '../src/npy.js';
import { mnist, saliency } from './helpers.js';

// End to end on the bundled MNIST CNN (examples/mnist): the CLI on a digit,
// against core's explain called directly, and ONNX against TF.js.

const dir = mkdtempSync(join(tmpdir(), 'saliency-mnist-'));
const digit = mnist.digit('3-0');
const common = [
  '--input',
  digit,
  '--preset',
  mnist.preset,
  '--method',
  'vargrad',
  '--num-samples',
  '16',
  '--noise-scale',
  '1',
  '--seed',
  '0',
];

/** The digit's 8-bit gray pixels, read independently of the CLI's image code. */
function grayPixels(path: string): Uint8Array {
  const png = PNG.sync.read(readFileSync(path));
  expect([png.width, png.height]).toEqual([28, 28]);
  return Uint8Array.from({ length: 784 }, (_, p) => png.data[4 * p]!);
}

/** [1, H, W, C] → [1, C, H, W]. */
function nhwcToNchw(t: HostTensor): Float32Array {
  const [, h, w, c] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(k * h + y) * w + x] = t.data[(y * w + x) * c + k]!;
  return out;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

let onnxMap: HostTensor;
let tfjsMap: HostTensor;

beforeAll(() => {
  const onnx = saliency([
    '--model',
    mnist.onnx,
    ...common,
    '--out',
    join(dir, 'onnx.png'),
    '--overlay',
    join(dir, 'overlay.png'),
    '--raw',
    join(dir, 'onnx.npy'),
  ]);
  expect(onnx.stdout).toContain('written to');
  expect(onnx.status).toBe(0);
  const tfjs = saliency(['--model', mnist.tfjsDir, ...common, '--out', join(dir, 'tfjs.png'), '--raw', join(dir, 'tfjs.json')]);
  expect(tfjs.status).toBe(0);
  const npy = readNpy(readFileSync(join(dir, 'onnx.npy')));
  onnxMap = hostTensor(npy.data, npy.shape);
  const json = JSON.parse(readFileSync(join(dir, 'tfjs.json'), 'utf8')) as { shape: number[]; data: number[] };
  tfjsMap = hostTensor(json.data, json.shape);
});

describe('saliency on the MNIST example', () => {
  it('writes 28 × 28 heatmap and overlay PNGs, a colour bar under each', () => {
    for (const name of ['onnx.png', 'tfjs.png', 'overlay.png']) {
      const png = PNG.sync.read(readFileSync(join(dir, name)));
      expect([name, png.width, png.height]).toEqual([name, 28, 28 + colourBarHeight(28)]);
    }
    expect(onnxMap.shape).toEqual([1, 1, 28, 28]);
    expect(tfjsMap.shape).toEqual([1, 28, 28, 1]);
  });

  describe('against explain called directly', () => {
    const backend = createOnnxBackend(ort, readFileSync(mnist.onnx));
    afterAll(() => backend.dispose());

    it('gives the same map with the same seed', async () => {
      // MNIST preprocessing written out here: x = (p / 255 − 0.1307) / 0.3081, NCHW
      const x = hostTensor(
        Float32Array.from(grayPixels(digit), (p) => (p / 255 - 0.1307) / 0.3081),
        [1, 1, 28, 28],
      );
      const direct = await explain(backend, 'vargrad', x, { numSamples: 16, noiseScale: 1, seed: 0 });
      expect(maxAbs(direct.data)).toBeGreaterThan(0);
      expect(maxAbsDiff(onnxMap.data, direct.data)).toBeLessThanOrEqual(1e-5 * maxAbs(direct.data));
    });
  });

  it('agrees between the ONNX and the TF.js model within 1e-3 relative', () => {
    const tfjsNchw = nhwcToNchw(tfjsMap);
    expect(maxAbsDiff(onnxMap.data, tfjsNchw)).toBeLessThanOrEqual(1e-3 * maxAbs(onnxMap.data));
  });

  it('puts more of the VarGrad map on the strokes than on the background', () => {
    const pixels = grayPixels(digit);
    let ink = 0;
    let inkCount = 0;
    let background = 0;
    for (let p = 0; p < 784; p++) {
      if (pixels[p]! > 0) {
        ink += Math.abs(onnxMap.data[p]!);
        inkCount++;
      } else background += Math.abs(onnxMap.data[p]!);
    }
    expect(inkCount).toBeGreaterThan(50);
    expect(ink / inkCount).toBeGreaterThan(background / (784 - inkCount));
  });

  it('reads the same digit as a preprocessed .npy tensor ([1, 28, 28] without the batch axis)', () => {
    // NumPy preprocesses the PNG's pixels; the CLI adds the batch axis.
    const path = join(dir, 'digit.npy');
    const pixels = Array.from(grayPixels(digit));
    const py = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        `import numpy as np, json, sys; p = np.array(json.loads(sys.stdin.read()), dtype=np.float64).reshape(1, 28, 28); np.save(${JSON.stringify(path)}, ((p / 255 - 0.1307) / 0.3081).astype('<f4'))`,
      ],
      { input: JSON.stringify(pixels), encoding: 'utf8' },
    );
    expect(py.status).toBe(0);
    const result = saliency([
      '--model',
      mnist.onnx,
      '--input',
      path,
      '--method',
      'vargrad',
      '--num-samples',
      '16',
      '--seed',
      '0',
      '--raw',
      join(dir, 'from-npy.npy'),
    ]);
    expect(result.status).toBe(0);
    const fromNpy = readNpy(readFileSync(join(dir, 'from-npy.npy')));
    expect(fromNpy.shape).toEqual([1, 1, 28, 28]);
    expect(maxAbsDiff(fromNpy.data, onnxMap.data)).toBeLessThanOrEqual(1e-5 * maxAbs(onnxMap.data));
    // the same tensor with its batch axis of 1 kept, [1, 1, 28, 28], as the model's input has four axes
    const batched = join(dir, 'digit-batched.npy');
    writeFileSync(batched, writeNpy(readNpy(readFileSync(path)).data, [1, 1, 28, 28]));
    const withBatch = saliency([
      '--model',
      mnist.onnx,
      '--input',
      batched,
      '--method',
      'vargrad',
      '--num-samples',
      '16',
      '--seed',
      '0',
      '--raw',
      join(dir, 'from-batched.npy'),
    ]);
    expect(withBatch.stderr).toBe('');
    expect(withBatch.status).toBe(0);
    const fromBatched = readNpy(readFileSync(join(dir, 'from-batched.npy')));
    expect(fromBatched.shape).toEqual([1, 1, 28, 28]);
    expect(maxAbsDiff(fromBatched.data, onnxMap.data)).toBeLessThanOrEqual(1e-5 * maxAbs(onnxMap.data));
  });

  it('warns that VarGrad of one sample is all zeros, and gives that map', () => {
    const result = saliency(['--model', mnist.onnx, ...common, '--num-samples', '1', '--raw', join(dir, 'one.npy')]);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(
      /^saliency: warning: vargrad with 1 sample is the variance of one value: the map is all zeros; give --num-samples 2 or more/,
    );
    expect(maxAbs(readNpy(readFileSync(join(dir, 'one.npy'))).data)).toBe(0);
  });

  it('takes its noise from --noise: the core generator written out reproduces the seeded map', () => {
    // ε_i = σ · z(seed 0, example 0, sample i) with σ = 1, as [N, ...input shape] = [16, 1, 28, 28]
    const noise = new Float32Array(16 * 784);
    for (let i = 0; i < 16; i++) fillStandardNormal(noise.subarray(i * 784, (i + 1) * 784), 0, 0, i);
    const path = join(dir, 'noise.npy');
    writeFileSync(path, writeNpy(noise, [16, 1, 28, 28]));
    const result = saliency(['--model', mnist.onnx, ...common, '--seed', '7', '--noise', path, '--raw', join(dir, 'supplied.npy')]);
    expect(result.status).toBe(0);
    const supplied = readNpy(readFileSync(join(dir, 'supplied.npy')));
    expect(maxAbsDiff(supplied.data, onnxMap.data)).toBeLessThanOrEqual(1e-5 * maxAbs(onnxMap.data));
    // and a different seed without --noise gives a different map, so the check above can fail
    const other = saliency(['--model', mnist.onnx, ...common, '--seed', '7', '--raw', join(dir, 'seed7.npy')]);
    expect(other.status).toBe(0);
    expect(maxAbsDiff(readNpy(readFileSync(join(dir, 'seed7.npy'))).data, onnxMap.data)).toBeGreaterThan(1e-3 * maxAbs(onnxMap.data));
  });
});
