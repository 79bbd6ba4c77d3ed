import { modelArtifacts } from '@saliency/backend-tfjs';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The bundled MNIST model, in both formats, on the sample digits: the ONNX
 * model (onnxruntime-node, NCHW input) and the TF.js LayersModel (cpu backend,
 * NHWC input) must each classify every sample PNG as its label, agree with
 * each other, and the ONNX logits must match the PyTorch logits that
 * train.py recorded in model/samples.json.
 */

const HERE = new URL('../', import.meta.url);
/** |a - b| <= RELATIVE * max_k |reference_k| per sample: float32 sums in another order. */
const RELATIVE = 1e-4;

interface Preset {
  width: number;
  height: number;
  channels: number;
  scale: number;
  mean: number[];
  std: number[];
  layout: { onnx: string; tfjs: string };
}

interface Sample {
  file: string;
  label: number;
  index: number;
  logits: number[];
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(new URL(path, HERE), 'utf8')) as T;
}

/** The 8-bit gray values of a grayscale PNG (pngjs expands it to RGBA; R = G = B = gray). */
async function grayPixels(path: string, preset: Preset): Promise<Uint8Array> {
  const png = PNG.sync.read(await readFile(new URL(path, HERE)));
  if (png.width !== preset.width || png.height !== preset.height) {
    throw new Error(`${path}: ${png.width}x${png.height}, expected ${preset.width}x${preset.height}`);
  }
  const gray = new Uint8Array(png.width * png.height);
  for (let i = 0; i < gray.length; i++) {
    const r = png.data[4 * i] ?? 0;
    if (r !== png.data[4 * i + 1] || r !== png.data[4 * i + 2]) throw new Error(`${path}: not grayscale`);
    gray[i] = r;
  }
  return gray;
}

/** The preset's normalisation: (p * scale - mean) / std; one channel, so NCHW and NHWC hold the same values. */
function normalise(gray: Uint8Array, preset: Preset): Float32Array {
  const mean = preset.mean[0] ?? 0;
  const std = preset.std[0] ?? 1;
  return Float32Array.from(gray, (p) => (p * preset.scale - mean) / std);
}

/** A tf.io.IOHandler that reads model.json and its weight shards from disk. */
function fileHandler(modelJson: URL): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(await readFile(modelJson, 'utf8')) as tf.io.ModelJSON;
      if (json.format !== 'layers-model') throw new Error(`${modelJson.pathname}: format ${json.format}, expected layers-model`);
      return modelArtifacts(json, (path) => readFile(new URL(path, modelJson)));
    },
  };
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] ?? -Infinity) > (values[best] ?? -Infinity)) best = i;
  return best;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const scale = Math.max(...Array.from(expected, Math.abs));
  const worst = Math.max(...Array.from(actual, (a, k) => Math.abs(a - (expected[k] ?? NaN))));
  expect(worst, `${what}: max |difference| over max |logit| ${scale}`).toBeLessThanOrEqual(RELATIVE * scale);
}

describe('the bundled MNIST model', () => {
  let preset: Preset;
  let samples: Sample[];
  let batch: Float32Array;
  let onnxLogits: Float32Array;
  let tfjsLogits: Float32Array;
  const classes = 10;

  beforeAll(async () => {
    preset = await readJson<Preset>('preprocess.json');
    expect(preset.channels).toBe(1);
    samples = (await readJson<{ samples: Sample[] }>('model/samples.json')).samples;
    const pixels = preset.width * preset.height;
    batch = new Float32Array(samples.length * pixels);
    for (const [b, sample] of samples.entries()) {
      batch.set(normalise(await grayPixels(sample.file, preset), preset), b * pixels);
    }

    const session = await ort.InferenceSession.create(await readFile(new URL('model/mnist.onnx', HERE)));
    try {
      const input = new ort.Tensor('float32', batch, [samples.length, 1, preset.height, preset.width]);
      const output = (await session.run({ input })).logits;
      if (output === undefined) throw new Error('mnist.onnx has no output "logits"');
      expect(output.dims).toEqual([samples.length, classes]);
      onnxLogits = output.data as Float32Array;
    } finally {
      await session.release();
    }

    await tf.setBackend('cpu');
    const model = await tf.loadLayersModel(fileHandler(new URL('model/tfjs/model.json', HERE)));
    try {
      expect(model.inputs[0]?.shape).toEqual([null, preset.height, preset.width, 1]);
      tfjsLogits = tf.tidy(() => {
        const x = tf.tensor4d(batch, [samples.length, preset.height, preset.width, 1]);
        return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
      });
    } finally {
      model.dispose();
    }
  });

  afterAll(() => {
    expect(tf.memory().numTensors, 'no TF.js tensor leaks').toBe(0);
  });

  const row = (logits: Float32Array, b: number) => logits.subarray(b * classes, (b + 1) * classes);

  it('has sample digits of several classes', () => {
    expect(samples.length).toBeGreaterThanOrEqual(5);
    expect(new Set(samples.map((s) => s.label)).size).toBe(samples.length);
    for (const s of samples) expect(s.file).toBe(`digits/${s.label}-${s.index}.png`);
  });

  it('ONNX predicts the label of every sample digit', () => {
    expect(samples.map((_, b) => argmax(row(onnxLogits, b)))).toEqual(samples.map((s) => s.label));
  });

  it('TF.js predicts the label of every sample digit', () => {
    expect(samples.map((_, b) => argmax(row(tfjsLogits, b)))).toEqual(samples.map((s) => s.label));
  });

  it('ONNX logits match the PyTorch logits recorded by train.py', () => {
    for (const [b, s] of samples.entries()) expectClose(row(onnxLogits, b), s.logits, s.file);
  });

  it('TF.js logits (NHWC) match ONNX logits (NCHW) on the same pixels', () => {
    for (const [b, s] of samples.entries()) expectClose(row(tfjsLogits, b), row(onnxLogits, b), s.file);
  });
});
