import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { explain, hostTensor, type HostTensor } from '@saliency/core';
import { createOnnxBackend, exportAttributionModel, MAP_OUTPUT, NOISE_INPUT, type OnnxRuntimeModule } from '../src/index.js';
import { runExported, seededNoiseTensor, type Runtime } from './helpers/export-fixtures.js';
import { feedsOf, MODELS, VAD_DIST, voicedFrame } from './helpers/silero-vad.js';
import { thrown } from './helpers/thrown.js';

/*
 * exportAttributionModel on Silero VAD (test/silero-vad.test.ts) with the
 * backend's feeds: the sample rate a scalar folded into the exported graph
 * (its If nodes decided there), the LSTM state [2, B, H] held fixed as a
 * constant, or kept an input of the exported model on its batch axis 1.
 * Reference: the library's map with the same feeds, as test/export-model.test.ts
 * holds the parity fixtures' exports to it.
 */

const RUNTIMES: Array<[string, Runtime, object]> = [
  ['onnxruntime-node', ortNode as unknown as Runtime, {}],
  ['onnxruntime-web wasm', ortWeb as unknown as Runtime, { executionProviders: ['wasm'] }],
];
const OPTIONS = { numSamples: 4, steps: 8, seed: 7, noiseScale: 0.05, unbiased: false, target: 0 } as const;
const EXPORT_OPTIONS = { numSamples: 4, steps: 8, unbiased: false, inputName: 'input', outputName: 'output' } as const;
const TOLERANCE = 1e-5;
/** Building the graphs of these models on a loaded 2-core machine. */
const TIMEOUT = 300_000;
const RATE = 16000;

/** The largest difference of two maps relative to the largest magnitude of the second. */
function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  expect(scale).toBeGreaterThan(0);
  return worst / scale;
}

/** Two voiced frames, the second quieter and shifted, as a batch [2, T]. */
function twoFrames(samples: number): HostTensor {
  const one = voicedFrame(samples, RATE);
  const data = new Float32Array(2 * samples);
  data.set(one, 0);
  data.set(
    one.map((v, i) => 0.6 * v + 0.05 * Math.sin(i / 7)),
    samples,
  );
  return hostTensor(data, [2, samples]);
}

const worst = new Map<string, number>();
afterAll(() => console.log(`Silero exports vs library: ${[...worst].map(([k, v]) => `${k} ${v.toExponential(2)}`).join('; ')}`));

describe.each([MODELS[0]!, MODELS[1]!].map((model) => [model.file, model] as const))(
  'exported attribution models of Silero VAD %s with its feeds',
  (file, model) => {
    const bytes = readFileSync(join(VAD_DIST, file));
    const samples = model.samples[RATE]!;
    const x = twoFrames(samples);
    const feeds = feedsOf(model, RATE, 'seeded');

    it.each(['gradient', 'vargrad', 'integrated_gradients_x_input'])(
      '%s, the sample rate folded and the state a constant, equals the library on onnxruntime-node and onnxruntime-web within 1e-5',
      async (method) => {
        const options = { inputName: 'input', outputName: 'output', feeds };
        const exported = exportAttributionModel(bytes, { method, inputShape: x.shape, feeds, ...EXPORT_OPTIONS });
        // The feeds are in the graph: it takes the frames (and the noise) only.
        expect(exported.inputs.map((i) => i.name).filter((n) => n !== NOISE_INPUT)).toEqual(['input']);
        const values = { input: x.data, [NOISE_INPUT]: seededNoiseTensor(x.shape, OPTIONS.numSamples, OPTIONS.seed, OPTIONS.noiseScale) };
        for (const [runtime, ort, sessionOptions] of RUNTIMES) {
          const backend = createOnnxBackend(ort as unknown as OnnxRuntimeModule, bytes, { ...options, sessionOptions });
          try {
            const library = await explain(backend, method, x, OPTIONS);
            expect(library.data.some((v) => v !== 0)).toBe(true);
            const outputs = await runExported(ort, exported, values, sessionOptions);
            expect(outputs[MAP_OUTPUT]!.dims).toEqual(library.shape);
            const difference = relativeDifference(outputs[MAP_OUTPUT]!.data as Float32Array, library.data);
            worst.set(`${file} ${method} ${runtime}`, difference);
            expect(difference, `${file} ${method} on ${runtime}`).toBeLessThanOrEqual(TOLERANCE);
          } finally {
            await backend.dispose();
          }
        }
      },
      TIMEOUT,
    );
  },
);

describe('exported Silero VAD v5 with its state an input of the exported model', () => {
  const model = MODELS[1]!;
  const bytes = readFileSync(join(VAD_DIST, model.file));
  const samples = model.samples[RATE]!;
  const x = twoFrames(samples);

  it(
    'takes the state [2, B, 128] on its batch axis 1, each example its own row, as the library gives a state of batch 2',
    async () => {
      const sr = feedsOf(model, RATE).sr!;
      const exported = exportAttributionModel(bytes, { method: 'smoothgrad', inputShape: x.shape, feeds: { sr }, ...EXPORT_OPTIONS });
      expect(exported.inputs.find((i) => i.name === 'state')).toEqual({ name: 'state', shape: [2, 2, 128], type: 'float32' });
      expect(exported.inputs.some((i) => i.name === 'sr')).toBe(false);
      // Example 0 the seeded state, example 1 a constant one: layer-major [2, 2, 128].
      const seededState = feedsOf(model, RATE, 'seeded').state!.data as Float32Array;
      const state = new Float32Array(512);
      for (let layer = 0; layer < 2; layer++) {
        state.set(seededState.subarray(layer * 128, (layer + 1) * 128), layer * 256);
        state.fill(0.05, layer * 256 + 128, layer * 256 + 256);
      }
      const backend = createOnnxBackend(ortNode as unknown as OnnxRuntimeModule, bytes, {
        inputName: 'input',
        outputName: 'output',
        feeds: { sr, state: { data: state, shape: [2, 2, 128] } },
      });
      try {
        const library = await explain(backend, 'smoothgrad', x, OPTIONS);
        const outputs = await runExported(RUNTIMES[0]![1], exported, {
          input: x.data,
          state,
          [NOISE_INPUT]: seededNoiseTensor(x.shape, OPTIONS.numSamples, OPTIONS.seed, OPTIONS.noiseScale),
        });
        const difference = relativeDifference(outputs[MAP_OUTPUT]!.data as Float32Array, library.data);
        worst.set('v5 smoothgrad, state an input', difference);
        expect(difference).toBeLessThanOrEqual(TOLERANCE);
      } finally {
        await backend.dispose();
      }
    },
    TIMEOUT,
  );

  it('refuses the scalar sample rate left out of feeds, naming it and saying how to give it', () => {
    const error = thrown(() => exportAttributionModel(bytes, { method: 'gradient', inputShape: x.shape, ...EXPORT_OPTIONS }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain('input "sr" is a scalar');
    expect(error.message).toContain('give its value in option feeds');
  });

  it('refuses a state given in both feeds and feedShapes, and a state whose batch is neither 1 nor the export batch', () => {
    const feeds = feedsOf(model, RATE);
    const both = thrown(() =>
      exportAttributionModel(bytes, {
        method: 'gradient',
        inputShape: x.shape,
        feeds,
        feedShapes: { state: [2, 2, 128] },
        ...EXPORT_OPTIONS,
      }),
    );
    expect(both.code).toBe('INVALID_OPTION');
    expect(both.message).toContain('input "state" is in both feeds and feedShapes');
    const three = { ...feeds, state: { data: new Float32Array(768), shape: [2, 3, 128] } };
    const wrong = thrown(() => exportAttributionModel(bytes, { method: 'gradient', inputShape: x.shape, feeds: three, ...EXPORT_OPTIONS }));
    expect(wrong.code).toBe('INVALID_SHAPE');
    expect(wrong.message).toContain('feed "state" holds 3 examples on its batch axis 1');
  });
});
