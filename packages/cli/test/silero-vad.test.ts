import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { explain, hostTensor } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '@saliency/backend-onnx';
import { python, saliency } from './helpers.js';

// `saliency inspect` and `saliency export` on Silero VAD v5 as @ricky0123/vad-web ships it: inputs
// input [B, T], state [2, B, 128] and the scalar sample rate sr, on which an If chooses the whole model.

const model = join(dirname(createRequire(import.meta.url).resolve('@ricky0123/vad-web/package.json')), 'dist', 'silero_vad_v5.onnx');
const dir = mkdtempSync(join(tmpdir(), 'saliency-silero-'));
const STFT = 'If_0_then_branch__Inline_0__/stft/Conv_output_0';
const SAMPLES = 576;
/** A voiced frame at 16 kHz: harmonics of 125 Hz. */
const frame = Float32Array.from({ length: SAMPLES }, (_, i) => {
  let v = 0;
  for (let k = 1; k <= 6; k++) v += 0.1 * Math.sin((2 * Math.PI * 125 * k * i) / 16000 + k);
  return v;
});
const state = Float32Array.from({ length: 256 }, (_, i) => 0.1 * Math.sin(i / 3));

beforeAll(() => {
  python(`
import numpy as np, math
d = ${JSON.stringify(dir)}
np.save(d + '/state.npy', np.array([0.1 * math.sin(i / 3) for i in range(256)], dtype='<f4').reshape(2, 1, 128))
`);
});

describe('saliency inspect of a model with a scalar input and If nodes on it', () => {
  it('suggests --feed sr=NUMBER for the scalar input, and says why no layers are listed without it', () => {
    const { status, stdout } = saliency(['inspect', model]);
    expect(status).toBe(0);
    expect(stdout).toContain(
      '  --input FILE --input-name input --feed state=FILE.npy --feed sr=NUMBER  (float32: attributed as it is, or at --layer)\n',
    );
    expect(stdout).toMatch(
      /layers from input input: none \(If node "If_0": its condition .* depends on values known only when the model runs/,
    );
  });

  it('with --feed sr=16000 lists the layers past the If it decides, with the shapes --shape gives', () => {
    const { status, stdout, stderr } = saliency(['inspect', model, '--feed', 'sr=16000', '--shape', 'input=1,576']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    // sr is given: no attribution line of its own, and the others name it as given.
    expect(stdout).toContain(
      '  --input FILE --input-name input --feed state=FILE.npy --feed sr=16000  (float32: attributed as it is, or at --layer)\n',
    );
    expect(stdout).not.toContain('--input-name sr');
    expect(stdout).toContain('layers from input input to output output (--layer NAME:');
    // 576 samples reflect-padded by 32 a side, windows of 256 at a hop of 128: 4 frames of 129 bins, real and imaginary.
    expect(stdout).toContain(`    ${STFT}  Conv  float32  [1, 258, 4]\n`);
    expect(stdout).toContain('    If_0_then_branch__Inline_0__/encoder/3/reparam_conv/Conv_output_0  Conv  float32  [1, 128, 1]\n');
  });

  it('refuses --feed and --shape of an input the model does not have', () => {
    const result = saliency(['inspect', model, '--shape', 'audio=1,576']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('inspect: the model has no input "audio"; its inputs are "input"');
  });
});

describe('saliency export with --feed of a scalar and a state', () => {
  it('exports the gradient with the sample rate folded and the state held fixed, equal to the library with the same feeds', async () => {
    const out = join(dir, 'silero.gradient.onnx');
    const result = saliency([
      'export',
      model,
      ...['--method', 'gradient', '--input-shape', `1,${SAMPLES}`, '--output-name', 'output', '--out', out],
      ...['--feed', 'sr=16000', '--feed', `state=${join(dir, 'state.npy')}`],
    ]);
    expect(result.stderr).toContain(`inputs:  input float32 [1, ${SAMPLES}]\n`);
    expect(result.status).toBe(0);
    const session = await ort.InferenceSession.create(readFileSync(out));
    const backend = createOnnxBackend(ort as unknown as OnnxRuntimeModule, readFileSync(model), {
      inputName: 'input',
      outputName: 'output',
      feeds: { sr: { data: new BigInt64Array([16000n]), shape: [] }, state: { data: state, shape: [2, 1, 128] } },
    });
    try {
      const outputs = await session.run({ input: new ort.Tensor('float32', frame, [1, SAMPLES]) });
      const map = outputs['saliency/map']!.data as Float32Array;
      const library = (await explain(backend, 'gradient', hostTensor(frame, [1, SAMPLES]), { target: 0 })).data;
      const scale = library.reduce((most, v) => Math.max(most, Math.abs(v)), 0);
      expect(scale).toBeGreaterThan(0);
      const worst = library.reduce((most, v, i) => Math.max(most, Math.abs(v - map[i]!)), 0);
      expect(worst / scale).toBeLessThanOrEqual(1e-5);
    } finally {
      await session.release();
      await backend.dispose();
    }
  });
});
