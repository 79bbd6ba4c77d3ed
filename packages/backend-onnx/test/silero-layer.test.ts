import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { explain, hostTensor } from '@saliency/core';
import { attributableTensors, createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { feedsOf, MODELS, seeded, VAD_DIST, voicedFrame } from './helpers/silero-vad.js';
import { thrown } from './helpers/thrown.js';

/*
 * Attribution at a tensor inside Silero VAD v5, whose whole model lies in
 * the branch of an If on the sample rate (decided by the scalar feed). The
 * STFT is a Conv of a fixed basis on the reflect-padded frame: linear in the
 * frame, so for the STFT output a = S x the chain rule is exact, and the
 * input gradient (which test/silero-vad.test.ts holds to central differences
 * of the unmodified model) gives g_x · v = g_a · (S v) for any direction v:
 * g_a from the backend at the layer, S v = a(x + v) − a(x) from ONNX Runtime's
 * run of the model's own prefix.
 */

const node = ortNode as unknown as OnnxRuntimeModule;
const model = MODELS[1]!;
const RATE = 16000;
const STFT = 'If_0_then_branch__Inline_0__/stft/Conv_output_0';
const LAST_CONV = 'If_0_then_branch__Inline_0__/encoder/3/reparam_conv/Conv_output_0';
const TIMEOUT = 240_000;

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

describe('Silero VAD v5 attributed at a tensor inside its If on the sample rate', () => {
  const bytes = readFileSync(join(VAD_DIST, model.file));
  const samples = model.samples[RATE]!;
  const x = voicedFrame(samples, RATE);
  const options = { inputName: 'input', outputName: 'output', feeds: feedsOf(model, RATE, 'seeded') };

  it('lists the STFT and the encoder Convs among the tensors the layer option takes, with the sample rate fed', () => {
    const shapes = { input: [1, samples] };
    const found = attributableTensors(bytes, { ...options, shapes });
    const byName = new Map(found.tensors.map((t) => [t.name, t]));
    // 576 samples, reflect-padded by 32 each side, windows of 256 at a hop of 128: 4 frames of 129 bins, real and imaginary.
    expect(byName.get(STFT)).toMatchObject({ op: 'Conv', shape: [1, 258, 4] });
    expect(byName.get(LAST_CONV)).toMatchObject({ op: 'Conv', shape: [1, 128, 1] });
    // Without the scalar, its If cannot be decided.
    expect(thrown(() => attributableTensors(bytes, { inputName: 'input', outputName: 'output', shapes })).message).toContain(
      'depends on values known only when the model runs',
    );
  });

  it(
    'gives at the STFT a gradient that the input gradient confirms through the linear STFT, along seeded directions',
    async () => {
      const atInput = createOnnxBackend(node, bytes, options);
      const atStft = createOnnxBackend(node, bytes, { ...options, layer: STFT });
      try {
        const target = Int32Array.from([0]);
        const gx = (await atInput.gradients(hostTensor(x, [1, samples]), target)).data;
        const u = { data: x, shape: [1, samples] };
        const a = await atStft.attributedInput!(u);
        expect(a.shape).toEqual([1, 258, 4]);
        const ga = (await atStft.gradients(a, target)).data;
        // The explained value is the same at the layer: the remainder's logits of a(x) are the model's of x.
        expect((await atStft.logits(a)).data[0]).toBeCloseTo((await atInput.logits(hostTensor(x, [1, samples]))).data[0]!, 6);
        const gauss = seeded(5);
        for (let k = 0; k < 4; k++) {
          const v = Float32Array.from({ length: samples }, () => 0.05 * gauss());
          const moved = await atStft.attributedInput!({ data: x.map((e, i) => e + v[i]!), shape: [1, samples] });
          const sv = moved.data.map((e, i) => e - a.data[i]!);
          const expected = dot(gx, v);
          // float32: S v is a difference of two STFTs of |a| about 1, rounded to a few ulps each, weighed by |g_a|.
          const rounding = 8 * 2 ** -24 * Math.sqrt(a.data.length) * Math.max(...a.data.map(Math.abs)) * Math.max(...ga.map(Math.abs));
          expect(Math.abs(dot(ga, sv) - expected), `direction ${k}: g_a · Sv against g_x · v = ${expected}`).toBeLessThanOrEqual(
            rounding + 1e-4 * Math.abs(expected),
          );
        }
      } finally {
        await atInput.dispose();
        await atStft.dispose();
      }
    },
    TIMEOUT,
  );

  it(
    'runs VarGrad at the last encoder Conv to a finite map of its shape, and refuses Grad-CAM there naming the shapes',
    async () => {
      const backend = createOnnxBackend(node, bytes, { ...options, layer: LAST_CONV });
      const atInput = createOnnxBackend(node, bytes, options);
      try {
        const a = await backend.attributedInput!({ data: x, shape: [1, samples] });
        const map = await explain(backend, 'vargrad', a, { target: 0, numSamples: 4, noiseScale: 0.05, seed: 1 });
        expect(map.shape).toEqual([1, 128, 1]);
        expect(map.data.every(Number.isFinite) && map.data.some((v) => v !== 0)).toBe(true);
        const camError = await explain(atInput, 'grad_cam', hostTensor(x, [1, samples]), { target: 0, layer: LAST_CONV }).then(
          () => undefined,
          (error: Error) => error,
        );
        expect(camError?.message).toContain('the input has shape [1, 576] and the layer [1, 128, 1]');
      } finally {
        await backend.dispose();
        await atInput.dispose();
      }
    },
    TIMEOUT,
  );
});
