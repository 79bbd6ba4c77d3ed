import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { explain } from '@saliency/core';
import { createOnnxBackend } from '@saliency/backend-onnx';
import { decodeImage } from '../src/image-io.js';
import { readNpy } from '../src/npy.js';
import { readPreset } from '../src/preset.js';
import { imageToTensor, resolvePreprocess } from '@saliency/core/preprocess';
import { mnist, python, saliency } from './helpers.js';
import { makeSmallOnnxModels, makeTfjsTokensModel, TABLE, W, X6 } from './small-models.js';

// --layer and token ids on the small models of small-models.ts, whose maps
// are known in closed form (docs/methods.md, "Attribution at a tensor"):
// - tokens.onnx, logits = mean_t E[ids_t] · w: at the embeddings
//   a[t, e] = E[ids_t, e], ∂ logit_k / ∂ a[t, e] = w[e, k] / T, so
//   Gradient×Input per token sums to Σ_e E[ids_t, e] · w[e, k] / T;
// - two-inputs.onnx, logits = (a ⊙ b) · w, at the tensor ab = a ⊙ b:
//   ∂ logit_k / ∂ ab_i = w[i, k], Gradient×Input ab_i · w[i, k].

const dir = mkdtempSync(join(tmpdir(), 'saliency-attribute-at-'));
const at = (name: string) => join(dir, name);
const IDS = [3, 0, 7, 7];
const B6 = [0.5, -2, 1, 0.25, 3, -1];

beforeAll(() => {
  makeSmallOnnxModels(dir);
  python(`
import numpy as np
np.save(${JSON.stringify(at('ids.npy'))}, np.array(${JSON.stringify(IDS)}, dtype='<i8'))
np.save(${JSON.stringify(at('ids32.npy'))}, np.array([${JSON.stringify(IDS)}], dtype='<i4'))
np.save(${JSON.stringify(at('b.npy'))}, np.array(${JSON.stringify(B6)}, dtype='<f8'))
`);
});

describe('token ids as --input', () => {
  const target = 2;
  const T = IDS.length;
  const gradientAt = (e: number) => W(e, target) / T;
  const expected = IDS.map((id) => {
    const terms = Array.from({ length: 6 }, (_, e) => TABLE(id, e) * gradientAt(e));
    return { sum: terms.reduce((a, b) => a + b, 0), l2: Math.hypot(...terms) };
  });

  it('are attributed at their embeddings: the per-token map (sum, L2) in --out, the map at the embeddings in --raw', () => {
    const run = saliency([
      ...['--model', at('tokens.onnx'), '--input', at('ids.npy'), '--method', 'gradient_x_input', '--target', String(target)],
      ...['--out', at('tokens.npy'), '--raw', at('embeddings.npy'), '--top-k', '2'],
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const table = readNpy(readFileSync(at('tokens.npy')));
    expect(table.shape).toEqual([T, 2]);
    expected.forEach(({ sum, l2 }, t) => {
      expect(table.data[2 * t]).toBeCloseTo(sum, 6);
      expect(table.data[2 * t + 1]).toBeCloseTo(l2, 6);
    });
    const map = readNpy(readFileSync(at('embeddings.npy')));
    expect(map.shape).toEqual([1, T, 6]);
    map.data.forEach((v, i) => expect(v).toBeCloseTo(TABLE(IDS[Math.floor(i / 6)]!, i % 6) * gradientAt(i % 6), 6));
    // the summary lists the two tokens of largest L2 norm, with their positions and ids
    const order = expected.map((_, t) => t).sort((a, b) => expected[b]!.l2 - expected[a]!.l2 || a - b);
    const lines = run.stdout.split('\n');
    const first = lines.findIndex((l) => l.startsWith('top 2 of 4 tokens by L2 norm'));
    expect(first).toBeGreaterThan(0);
    expect(lines[first + 1]).toMatch(new RegExp(`^  #${order[0]} id ${IDS[order[0]!]}: L2 `));
    expect(lines[first + 2]).toMatch(new RegExp(`^  #${order[1]} id ${IDS[order[1]!]}: L2 `));
    expect(run.stdout).toContain(`per-token map [${T}, 2] (columns: sum, L2) written to ${at('tokens.npy')}`);
  });

  it('on TF.js, at the embedding layer --layer names', async () => {
    const folder = at('tfjs-tokens');
    await makeTfjsTokensModel(folder);
    const run = saliency([
      ...['--model', folder, '--input', at('ids.npy'), '--layer', 'embedding', '--method', 'gradient_x_input'],
      ...['--target', String(target), '--out', at('tfjs-tokens.npy')],
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('with gradient_x_input on tfjs-wasm');
    const tokens = readNpy(readFileSync(at('tfjs-tokens.npy')));
    expect(tokens.shape).toEqual([T, 2]);
    expected.forEach(({ sum, l2 }, t) => {
      expect(tokens.data[2 * t]).toBeCloseTo(sum, 5);
      expect(tokens.data[2 * t + 1]).toBeCloseTo(l2, 5);
    });
  });

  it('as int32 with a batch axis of 1, or written as JSON, give the same per-token map', () => {
    const run = saliency([
      ...['--model', at('tokens.onnx'), '--input', at('ids32.npy'), '--method', 'gradient_x_input', '--target', String(target)],
      ...['--out', at('tokens.json')],
    ]);
    expect(run.status).toBe(0);
    const json = JSON.parse(readFileSync(at('tokens.json'), 'utf8')) as {
      tokens: { position: number; id: number; sum: number; l2: number }[];
    };
    expect(json.tokens.map((t) => [t.position, t.id])).toEqual(IDS.map((id, t) => [t, id]));
    json.tokens.forEach((t, i) => {
      expect(t.sum).toBeCloseTo(expected[i]!.sum, 6);
      expect(t.l2).toBeCloseTo(expected[i]!.l2, 6);
    });
  });
});

describe('--layer', () => {
  it('for a method at the input, attributes at the tensor it names (with a --feed)', () => {
    const run = saliency([
      ...['--model', at('two-inputs.onnx'), '--input', at('x6.npy'), '--feed', `b=${at('b.npy')}`, '--layer', 'ab'],
      ...['--method', 'gradient_x_input', '--target', '1', '--raw', at('ab.npy')],
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const map = readNpy(readFileSync(at('ab.npy')));
    expect(map.shape).toEqual([1, 6]);
    map.data.forEach((v, i) => expect(v).toBeCloseTo(X6[i]! * B6[i]! * W(i, 1), 6));
  });

  it('for Grad-CAM, is the layer explained: the map explain() gives for that layer, not the default one', async () => {
    const layer = '/Relu_output_0';
    const run = saliency([
      ...['--model', mnist.onnx, '--input', mnist.digit('3-0'), '--preset', mnist.preset],
      ...['--method', 'grad_cam', '--layer', layer, '--raw', at('cam.npy')],
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const map = readNpy(readFileSync(at('cam.npy')));
    const image = decodeImage(readFileSync(mnist.digit('3-0')), 'digit');
    const x = imageToTensor(image, resolvePreprocess(await readPreset(mnist.preset, 'onnx'), image, 'onnx')).tensor;
    const backend = createOnnxBackend(ort, readFileSync(mnist.onnx));
    try {
      const named = await explain(backend, 'grad_cam', x, { layer });
      const byDefault = await explain(backend, 'grad_cam', x);
      expect(Array.from(map.data)).toEqual(Array.from(named.data));
      expect(Array.from(map.data)).not.toEqual(Array.from(byDefault.data));
    } finally {
      await backend.dispose();
    }
  });
});
