import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../src/npy.js';
import { python, repoRoot, saliency } from './helpers.js';

// The command on models of several inputs, against PyTorch autograd in
// float64: the fixtures and references of packages/backend-onnx/scripts/
// make-text-fixtures.py. Each reference holds a batch of 2 examples; the
// command explains one, example 0 (its noise is the library's for example 0
// of a batch, as the reference's is).

const fixtures = `${repoRoot}packages/backend-onnx/test/fixtures/text/`;
const dir = mkdtempSync(join(tmpdir(), 'saliency-several-inputs-'));
const at = (name: string) => join(dir, name);

/** Writes example 0 of each of the reference's arrays (`key: [dtype, shape key or shape]`) as `.npy` files named after the key. */
function writeExamples(fixture: string, arrays: Record<string, [string, string]>): void {
  python(`
import json, numpy as np
d = json.load(open(${JSON.stringify(`${fixtures}${fixture}.json`)}))
for key, (dtype, shape) in json.loads(${JSON.stringify(JSON.stringify(arrays))}).items():
    a = np.array(d[key], dtype=dtype).reshape(d[shape])
    np.save(${JSON.stringify(dir)} + '/' + key + '.npy', a[0])
`);
}

/** The largest absolute difference, relative to the reference's largest magnitude. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  return worst / scale;
}

describe('saliency on a model of two inputs (an image, a fed vector)', () => {
  const reference = JSON.parse(readFileSync(`${fixtures}two_input.json`, 'utf8')) as {
    targets: number[];
    logits: number[];
    gradient: number[];
    smoothgrad: { numSamples: number; noiseScale: number; seed: number; map: number[] };
  };
  const model = `${fixtures}two_input.onnx`;
  const exampleSize = reference.gradient.length / 2;
  // the vector as float64: the command converts it to the float32 the input takes
  writeExamples('two_input', { image: ['<f4', 'imageShape'], vector: ['<f8', 'vectorShape'] });
  const target = String(reference.targets[0]);

  it('--feed gives the vector; the gradient and SmoothGrad of the image match PyTorch', () => {
    const gradient = saliency([
      ...['--model', model, '--input', at('image.npy'), '--feed', `vector=${at('vector.npy')}`],
      ...['--method', 'gradient', '--target', target, '--raw', at('gradient.npy')],
    ]);
    expect(gradient.stderr).toBe('');
    expect(gradient.status).toBe(0);
    // the explained class and its probability: the softmax of the reference's logits of example 0
    const logits = reference.logits.slice(0, 3);
    const exp = logits.map((z) => Math.exp(z - Math.max(...logits)));
    const probability = exp[reference.targets[0]!]! / exp.reduce((a, b) => a + b);
    expect(gradient.stdout).toContain(`explained class ${target} (probability ${probability.toFixed(3)}) with gradient on onnx-node`);
    const map = readNpy(readFileSync(at('gradient.npy')));
    expect(map.shape).toEqual([1, 3, 8, 8]);
    expect(relativeError(map.data, reference.gradient.slice(0, exampleSize))).toBeLessThan(1e-4);

    const { numSamples, noiseScale, seed } = reference.smoothgrad;
    const smooth = saliency([
      ...['--model', model, '--input', at('image.npy'), '--feed', `vector=${at('vector.npy')}`, '--input-name', 'image'],
      ...['--method', 'smoothgrad', '--target', target, '--num-samples', String(numSamples)],
      ...['--noise-scale', String(noiseScale), '--seed', String(seed), '--raw', at('smoothgrad.npy')],
    ]);
    expect(smooth.status).toBe(0);
    const smoothMap = readNpy(readFileSync(at('smoothgrad.npy')));
    expect(relativeError(smoothMap.data, reference.smoothgrad.map.slice(0, exampleSize))).toBeLessThan(1e-4);
  });
});

describe('saliency on a BERT-style text classifier (input_ids, attention_mask, token_type_ids)', () => {
  const reference = JSON.parse(readFileSync(`${fixtures}bert.json`, 'utf8')) as {
    inputIds: number[];
    idsShape: [number, number];
    targets: number[];
    steps: number;
    pad: number;
    noise: { numSamples: number; noiseScale: number; seed: number };
    maps: Record<string, number[]>;
    tokenMaps: Record<string, { sum: number[]; l2: number[] }>;
  };
  const model = `${fixtures}bert.onnx`;
  const [, T] = reference.idsShape;
  const E = reference.maps.gradient!.length / (2 * T);
  writeExamples('bert', {
    inputIds: ['<i8', 'idsShape'],
    attentionMask: ['<i8', 'idsShape'],
    tokenTypeIds: ['<i8', 'idsShape'],
  });
  const text = (method: string, ...rest: string[]) =>
    saliency([
      ...['--model', model, '--input', at('inputIds.npy'), '--feed', `attention_mask=${at('attentionMask.npy')}`],
      ...['--feed', `token_type_ids=${at('tokenTypeIds.npy')}`, '--method', method, '--target', String(reference.targets[0])],
      ...rest,
    ]);

  it.each(['gradient_x_input', 'integrated_gradients'])(
    '%s: the per-token maps (sum, L2) and the map at the word embeddings match PyTorch',
    (method) => {
      const run = text(method, '--steps', String(reference.steps), '--out', at(`${method}.npy`), '--raw', at(`${method}-raw.npy`));
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const table = readNpy(readFileSync(at(`${method}.npy`)));
      expect(table.shape).toEqual([T, 2]);
      const sums = Array.from({ length: T }, (_, t) => table.data[2 * t]!);
      const norms = Array.from({ length: T }, (_, t) => table.data[2 * t + 1]!);
      expect(relativeError(sums, reference.tokenMaps[method]!.sum.slice(0, T))).toBeLessThan(1e-4);
      expect(relativeError(norms, reference.tokenMaps[method]!.l2.slice(0, T))).toBeLessThan(1e-4);
      const map = readNpy(readFileSync(at(`${method}-raw.npy`)));
      expect(map.shape).toEqual([1, T, E]);
      expect(relativeError(map.data, reference.maps[method]!.slice(0, T * E))).toBeLessThan(1e-4);
      // the most relevant token by the reference's L2 norms heads the summary's list
      const l2 = reference.tokenMaps[method]!.l2.slice(0, T);
      const top = l2.indexOf(Math.max(...l2));
      expect(run.stdout).toMatch(
        new RegExp(`tokens by L2 norm over the embedding \\(position, id: L2, sum\\):\\n  #${top} id ${reference.inputIds[top]}: `),
      );
    },
  );

  it('integrated_gradients from the [PAD] embedding (--baseline-token): per-token maps match PyTorch', () => {
    const run = text(
      'integrated_gradients',
      '--steps',
      String(reference.steps),
      '--baseline-token',
      String(reference.pad),
      '--out',
      at('pad.npy'),
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const table = readNpy(readFileSync(at('pad.npy')));
    const sums = Array.from({ length: T }, (_, t) => table.data[2 * t]!);
    const expected = reference.tokenMaps.integrated_gradients_pad!;
    expect(relativeError(sums, expected.sum.slice(0, T))).toBeLessThan(1e-4);
    // and not the zero baseline's
    expect(relativeError(sums, reference.tokenMaps.integrated_gradients!.sum.slice(0, T))).toBeGreaterThan(1e-2);
  });

  it('vargrad: noise at the embeddings, as the reference adds it', () => {
    const { numSamples, noiseScale, seed } = reference.noise;
    const run = text(
      'vargrad',
      '--num-samples',
      String(numSamples),
      '--noise-scale',
      String(noiseScale),
      '--seed',
      String(seed),
      '--raw',
      at('vargrad.npy'),
    );
    expect(run.status).toBe(0);
    const map = readNpy(readFileSync(at('vargrad.npy')));
    expect(relativeError(map.data, reference.maps.vargrad!.slice(0, T * E))).toBeLessThan(1e-4);
  });
});
