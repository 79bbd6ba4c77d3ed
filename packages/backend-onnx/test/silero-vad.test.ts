import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { explain, hostTensor } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { expectClose } from './helpers/check-gradient.js';
import { feedsOf, MODELS, seeded, VAD_DIST, voicedFrame, type SileroModel } from './helpers/silero-vad.js';
import { thrown } from './helpers/thrown.js';

/*
 * Silero VAD as @ricky0123/vad-web ships it (three ONNX files exported by
 * PyTorch elsewhere: If nodes on the sample rate and on shapes, an STFT of
 * convolutions, LSTM state), explained at its audio samples with the sample
 * rate a scalar feed and the recurrent state a feed of batch axis 1.
 * References: ONNX Runtime's run of the unmodified model (the output) and
 * central finite differences of it (the gradient).
 */

const node = ortNode as unknown as OnnxRuntimeModule;
const web = ortWeb as unknown as OnnxRuntimeModule;

/** ONNX Runtime's `output` of the unmodified model for each row of `rows`, the state repeated over the batch axis 1. */
async function referenceOutputs(bytes: Uint8Array, model: SileroModel, rate: number, rows: readonly Float32Array[]): Promise<Float32Array> {
  const session = await ortNode.InferenceSession.create(bytes);
  try {
    const samples = rows[0]!.length;
    const input = new Float32Array(rows.length * samples);
    rows.forEach((row, b) => input.set(row, b * samples));
    const given: Record<string, ortNode.Tensor> = {
      input: new ortNode.Tensor('float32', input, [rows.length, samples]),
      sr: new ortNode.Tensor('int64', new BigInt64Array([BigInt(rate)]), []),
    };
    const feeds = feedsOf(model, rate);
    for (const [name, size] of model.state) {
      const one = feeds[name]!.data as Float32Array;
      const state = new Float32Array(2 * rows.length * size);
      for (let layer = 0; layer < 2; layer++)
        for (let b = 0; b < rows.length; b++) state.set(one.subarray(layer * size, (layer + 1) * size), (layer * rows.length + b) * size);
      given[name] = new ortNode.Tensor('float32', state, [2, rows.length, size]);
    }
    const outputs = await session.run(given);
    return Float32Array.from(outputs.output!.data as Float32Array);
  } finally {
    await session.release();
  }
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(values: Float32Array): number {
  return values.reduce((most, v) => Math.max(most, Math.abs(v)), 0);
}

const U = 2 ** -24;
/** Building and running the graphs of these models, on both runtimes, on a loaded 2-core machine. */
const TIMEOUT = 240_000;

const CASES = MODELS.flatMap((model) => [16000, 8000].map((rate) => [model.file, rate, model] as const));

describe.each(CASES)('Silero VAD %s at %i Hz on onnxruntime-node', (file, rate, model) => {
  const bytes = readFileSync(join(VAD_DIST, file));
  const samples = model.samples[rate]!;
  const x = voicedFrame(samples, rate);

  it(
    'gives the model output of ONNX Runtime, and a gradient that central differences of the unmodified model confirm',
    async () => {
      const backend = createOnnxBackend(node, bytes, { inputName: 'input', outputName: 'output', feeds: feedsOf(model, rate) });
      try {
        // The Sigmoid is followed by a mean over frames, so it is no final head: the explained value is the speech probability itself.
        const [expected] = await referenceOutputs(bytes, model, rate, [x]);
        const logits = await backend.logits(hostTensor(x, [1, samples]));
        expect(logits.shape).toEqual([1, 1]);
        expect(Math.abs(logits.data[0]! - expected!)).toBeLessThanOrEqual(8 * U);
        const g = (await backend.gradients(hostTensor(x, [1, samples]), Int32Array.from([0]))).data;

        // h: the ReLUs' kinks make a central difference only first-order accurate where one lies within reach, as a one-sided
        // difference is, so h balances an O(h) error against rounding, ε/h: h ≈ √u times the signal's scale (u = 2⁻²⁴, float32).
        const h = 2 ** -12 * maxAbs(x);
        const K = 6;
        const gauss = seeded(11);
        const directions = Array.from({ length: K }, () => {
          const v = Float64Array.from({ length: samples }, () => gauss());
          const norm = Math.sqrt(dot(v, v));
          return v.map((e) => e / norm);
        });
        const rows = directions.flatMap((v) => [1, -1, 2, -2].map((m) => x.map((e, i) => e + m * h * v[i]!)));
        const f = await referenceOutputs(bytes, model, rate, rows);
        const atH = directions.map((_, k) => (f[4 * k]! - f[4 * k + 1]!) / (2 * h));
        const at2H = directions.map((_, k) => (f[4 * k + 2]! - f[4 * k + 3]!) / (4 * h));
        // D(2h) − D(h) measures D(h)'s own error: three times its truncation where f is smooth, about its size where a
        // kink lies within reach or rounding dominates, so twice it covers both; and a floor for rounding: each run of f
        // is within a few ulps of |f| (measured about one), so D(h) is within 4u|f|/h per direction.
        const estimate = Math.hypot(...atH.map((d, k) => d - at2H[k]!));
        const tolerance = 2 * estimate + (Math.sqrt(K) * 4 * U * Math.abs(expected!)) / h;
        const distance = (gradient: ArrayLike<number>) => Math.hypot(...directions.map((v, k) => dot(gradient, v) - atH[k]!));
        expect(distance(g), `|g·v − D(h)| over ${K} directions`).toBeLessThanOrEqual(tolerance);
        // The check can fail: the gradient of the wrong sign, or scaled by 0.75 or 1.25, is further from D(h) than that.
        for (const factor of [-1, 0.75, 1.25]) {
          expect(distance(g.map((e) => factor * e)), `the gradient times ${factor}`).toBeGreaterThan(tolerance);
        }
      } finally {
        await backend.dispose();
      }
    },
    TIMEOUT,
  );
});

describe.each(MODELS.map((model) => [model.file, model] as const))(
  'Silero VAD %s through explain and on onnxruntime-web',
  (file, model) => {
    const bytes = readFileSync(join(VAD_DIST, file));

    it(
      "runs VarGrad to a finite map, and gives on wasm the gradient of onnxruntime-node within 1e-5, or float32's own sensitivity where larger",
      async () => {
        for (const rate of [16000, 8000]) {
          const samples = model.samples[rate]!;
          const x = hostTensor(voicedFrame(samples, rate), [1, samples]);
          const options = { inputName: 'input', outputName: 'output', feeds: feedsOf(model, rate) };
          const onNode = createOnnxBackend(node, bytes, options);
          const onWasm = createOnnxBackend(web, bytes, { ...options, sessionOptions: { executionProviders: ['wasm'] } });
          try {
            const map = await explain(onNode, 'vargrad', x, { target: 0, numSamples: 8, noiseScale: 0.05, seed: 1, batchSize: 8 });
            expect(map.shape).toEqual([1, samples]);
            expect(map.data.every(Number.isFinite)).toBe(true);
            expect(map.data.some((v) => v !== 0)).toBe(true);
            const target = Int32Array.from([0]);
            const expected = (await onNode.gradients(x, target)).data;
            // How far float32 rounding alone moves this gradient: the input moved by about one ulp per sample. The legacy
            // model's log(1 + 2²⁰·|STFT|) weighs bins of small magnitude, whose rounding differs between the runtimes'
            // convolution sums, heavily: there the move is a few 1e-5 (measured 2.4e-5 at 16 kHz), and the runtimes differ as much (1.3e-5).
            const nudged = hostTensor(
              x.data.map((v, i) => v * (1 + (i % 2 === 0 ? 2 ** -23 : -(2 ** -23)))),
              x.shape,
            );
            const moved = (await onNode.gradients(nudged, target)).data;
            const rounding = maxAbs(moved.map((v, i) => v - expected[i]!)) / maxAbs(expected);
            const tolerance = Math.max(1e-5, 2 * rounding);
            expect(tolerance, `${file} at ${rate} Hz: float32's own sensitivity`).toBeLessThan(1e-4);
            expectClose((await onWasm.gradients(x, target)).data, expected, tolerance, `${file} at ${rate} Hz, wasm against node`);
          } finally {
            await onNode.dispose();
            await onWasm.dispose();
          }
        }
      },
      TIMEOUT,
    );
  },
);

describe('feeds of Silero VAD', () => {
  const model = MODELS[1]!;
  const bytes = readFileSync(join(VAD_DIST, model.file));

  it('refuses a scalar sample rate given a shape other than [], naming the scalar input', () => {
    const feeds = { ...feedsOf(model, 16000), sr: { data: new BigInt64Array([16000n]), shape: [1] } };
    const error = thrown(() => createOnnxBackend(node, bytes, { inputName: 'input', outputName: 'output', feeds }));
    expect(error.code).toBe('INVALID_SHAPE');
    expect(error.message).toMatch(/feed "sr".*takes shape \[\] \(a scalar: give shape \[\]\), got \[1\]/);
  });

  it(
    'gives each example its own row of a state of batch 2 on the state batch axis 1',
    async () => {
      const samples = model.samples[16000]!;
      const one = voicedFrame(samples, 16000);
      const two = one.map((v, i) => 0.5 * v + 0.1 * Math.sin(i / 5));
      const states = [feedsOf(model, 16000, 'seeded').state!.data as Float32Array, new Float32Array(256).fill(0.05)];
      // [2, 2, 128]: layer-major, example b of layer l at (l · 2 + b) · 128.
      const state = new Float32Array(512);
      for (let layer = 0; layer < 2; layer++)
        for (let b = 0; b < 2; b++) state.set(states[b]!.subarray(layer * 128, (layer + 1) * 128), (layer * 2 + b) * 128);
      const feeds = { sr: { data: new BigInt64Array([16000n]), shape: [] }, state: { data: state, shape: [2, 2, 128] } };
      const backend = createOnnxBackend(node, bytes, { inputName: 'input', outputName: 'output', feeds });
      const session = await ortNode.InferenceSession.create(bytes);
      try {
        const input = new Float32Array(2 * samples);
        input.set(one, 0);
        input.set(two, samples);
        const logits = await backend.logits(hostTensor(input, [2, samples]));
        const reference = await session.run({
          input: new ortNode.Tensor('float32', input, [2, samples]),
          sr: new ortNode.Tensor('int64', new BigInt64Array([16000n]), []),
          state: new ortNode.Tensor('float32', state, [2, 2, 128]),
        });
        expectClose(logits.data, reference.output!.data as Float32Array, 1e-6, 'logits of two examples with their own state');
        // Example 1's row from a call of that example alone, with the state of batch 2: the row of example 1, by request.examples.
        const alone = await backend.gradients(hostTensor(two, [1, samples]), Int32Array.from([0]), { examples: Int32Array.from([1]) });
        const both = await backend.gradients(hostTensor(input, [2, samples]), Int32Array.from([0, 0]));
        expectClose(alone.data, both.data.subarray(samples), 1e-6, 'example 1 alone and in the batch');
      } finally {
        await session.release();
        await backend.dispose();
      }
    },
    TIMEOUT,
  );
});
