import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { explain, hostTensor } from '@saliency/core';
import { createOnnxBackend } from '@saliency/backend-onnx';
import { readNpy, writeNpy } from '../src/npy.js';
import { repoRoot, saliency } from './helpers.js';

// Grad-CAM's map has one channel (docs/methods.md, "Grad-CAM"), not the
// input's three: the CLI draws it by its own shape. On the parity fixture
// cnn_bn (NCHW, 3 × 16 × 16).
describe('saliency --method grad_cam', () => {
  it('writes the one-channel map, as explain() gives it, and its heatmap at the input size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'saliency-grad-cam-'));
    const model = `${repoRoot}apps/parity/fixtures/models/cnn_bn.onnx`;
    const input = Float32Array.from({ length: 3 * 16 * 16 }, (_, i) => Math.sin(0.37 * i) + 0.2 * Math.cos(1.3 * i));
    writeFileSync(join(dir, 'x.npy'), writeNpy(input, [3, 16, 16]));
    const run = saliency([
      '--model',
      model,
      '--input',
      join(dir, 'x.npy'),
      '--method',
      'grad_cam',
      '--no-legend',
      '--out',
      join(dir, 'cam.png'),
      '--raw',
      join(dir, 'cam.npy'),
    ]);
    expect(run.stdout).toContain('with grad_cam on onnx-node');
    expect(run.stdout).toContain('map [1, 1, 16, 16] written to');
    expect(run.status).toBe(0);
    const map = readNpy(readFileSync(join(dir, 'cam.npy')));
    expect(map.shape).toEqual([1, 1, 16, 16]);
    const backend = createOnnxBackend(ort, readFileSync(model));
    try {
      const direct = await explain(backend, 'grad_cam', hostTensor(input, [1, 3, 16, 16]));
      expect(Array.from(map.data)).toEqual(Array.from(direct.data));
    } finally {
      await backend.dispose();
    }
    expect(Math.max(...map.data)).toBeGreaterThan(0);
    const png = PNG.sync.read(readFileSync(join(dir, 'cam.png')));
    expect([png.width, png.height]).toEqual([16, 16]);
  }, 120_000);
});
