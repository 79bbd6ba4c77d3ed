import { describe, expect, it } from 'vitest';
import { hostTensor } from '@saliency/core';
import { createTfjsBackend } from '../src/index.js';
import { tf, useBackend, type BackendName } from './helpers/tfjs-setup.js';
import { humanModelOps, loadHumanModel } from './helpers/npm-models.js';
import { prng } from './helpers/prng.js';

/*
 * Real TF.js GraphModels as an npm package ships them (converter output:
 * fused convolutions, depthwise convolutions, max pooling, a final softmax),
 * differentiated on tfjs-cpu and tfjs-wasm in Node. Each gradient g is checked
 * against a central difference of the model's own logits on the same backend
 * along g itself (where float32 differences of a deep ReLU network are far
 * above their rounding noise): (f(x + h·v) − f(x − h·v)) / 2h ≈ g·v with
 * v = g / max|g|; cpu's against TF.js's own gradient of the logits node
 * (tf.grad, without this package's pass); and wasm's against cpu's within the
 * parity tolerance of float32 devices (1e-5 of the largest magnitude,
 * apps/parity).
 */

interface RealModel {
  readonly file: string;
  readonly what: string;
  readonly shape: number[];
  readonly target: number;
  readonly outputName?: string;
  /** The node of the logits, before the softmax that the backend strips. */
  readonly logits: string;
  /**
   * Where wasm and cpu may differ by more than float32 rounding: the
   * differences found, with the reason.
   */
  readonly wasmAgreement?: { readonly maxError: number; readonly cosine: number };
  /** Ops the test is about: the shipped graph must hold them. */
  readonly ops: string[];
}

const MODELS: RealModel[] = [
  {
    file: 'emotion',
    what: 'emotion classifier, 64x64x1, depthwise-separable',
    shape: [1, 64, 64, 1],
    target: 3,
    logits: 'StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean',
    ops: ['_FusedConv2D', 'DepthwiseConv2dNative', 'MaxPool', 'Mean', 'Softmax'],
  },
  {
    file: 'liveness',
    what: 'face liveness classifier, 32x32x3',
    shape: [2, 32, 32, 3],
    target: 1,
    logits: 'StatefulPartitionedCall/sequential_1/dense_2/BiasAdd',
    ops: ['_FusedConv2D', 'MaxPool', '_FusedMatMul', 'Softmax'],
  },
  {
    file: 'faceres',
    what: 'MobileNet-v1-style face age/gender network, 224x224x3, age head',
    shape: [1, 224, 224, 3],
    target: 30,
    outputName: 'age_pred/Softmax',
    logits: 'age_pred/BiasAdd',
    // Its ReLU6s are Minimum/Maximum pairs over ~1.5 M units; wasm's convolutions
    // round differently from cpu's, and units within that rounding of a kink
    // switch the gradient through them: 2.4e-2 of the largest element at this
    // input, the maps' cosine 0.99998 (every other model here: 3e-7).
    wasmAgreement: { maxError: 5e-2, cosine: 0.9999 },
    ops: ['Conv2D', 'DepthwiseConv2dNative', 'Minimum', 'Maximum', 'Mean', '_FusedMatMul', 'Softmax'],
  },
];

const PARITY_TOLERANCE = 1e-5;
/** Central difference step along v (max |v| = 1), on inputs in [0, 1]. */
const STEP = 1e-3;

function image(shape: readonly number[], seed: number): Float32Array {
  const random = prng(seed);
  return Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => random());
}

function relativeMaxError(a: ArrayLike<number>, r: ArrayLike<number>): number {
  let error = 0;
  let scale = 0;
  for (let i = 0; i < r.length; i++) {
    error = Math.max(error, Math.abs(a[i]! - r[i]!));
    scale = Math.max(scale, Math.abs(r[i]!));
  }
  return error / scale;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(aa * bb);
}

const cpuGradients = new Map<string, Float32Array>();

describe.each(['cpu', 'wasm'] satisfies BackendName[])('real models from npm on tfjs-%s', (backendName) => {
  it.each(MODELS.map((m) => [`${m.file}: ${m.what}`, m] as const))(
    '%s',
    async (_, spec) => {
      await useBackend(backendName);
      const ops = await humanModelOps(spec.file);
      for (const op of spec.ops) expect(ops.has(op), `${spec.file} holds ${op}`).toBe(true);
      const model = await loadHumanModel(spec.file);
      try {
        const backend = createTfjsBackend(model, spec.outputName === undefined ? {} : { outputName: spec.outputName });
        expect(backend.description).toMatch(/without its final Softmax/);
        const rows = spec.shape[0]!;
        const data = image(spec.shape, 5);
        const targets = Int32Array.from({ length: rows }, () => spec.target);
        const before = tf.memory().numTensors;
        const g = await backend.gradients(hostTensor(data, spec.shape), targets);
        expect(tf.memory().numTensors).toBe(before);

        // d/dh f_t(x + h v) at 0 = g · v, by a central difference of the logits.
        const size = data.length / rows;
        let largest = 0;
        for (const value of g.data) largest = Math.max(largest, Math.abs(value));
        const direction = g.data.map((value) => value / largest);
        const shifted = (sign: number) =>
          hostTensor(
            data.map((v, i) => v + sign * STEP * direction[i]!),
            spec.shape,
          );
        const [up, down] = [await backend.logits(shifted(1)), await backend.logits(shifted(-1))];
        const classes = up.shape[1]!;
        for (let r = 0; r < rows; r++) {
          let dot = 0;
          for (let i = r * size; i < (r + 1) * size; i++) dot += g.data[i]! * direction[i]!;
          const difference = (up.data[r * classes + spec.target]! - down.data[r * classes + spec.target]!) / (2 * STEP);
          expect(dot, `row ${r}`).toBeGreaterThan(0);
          expect(Math.abs(dot - difference), `row ${r}: g·v ${dot} vs difference ${difference}`).toBeLessThanOrEqual(2e-2 * dot);
        }

        if (backendName === 'cpu') {
          cpuGradients.set(spec.file, g.data);
          const selection = tf.oneHot(tf.fill([rows], spec.target, 'int32'), classes);
          const own = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(model.execute(x, spec.logits) as tf.Tensor, selection)))(
            tf.tensor(data, spec.shape),
          );
          const error = relativeMaxError(g.data, await own.data());
          tf.dispose([selection, own]);
          expect(error, "against TF.js's own cpu gradient").toBeLessThanOrEqual(PARITY_TOLERANCE);
        } else {
          const error = relativeMaxError(g.data, cpuGradients.get(spec.file)!);
          const cos = cosine(g.data, cpuGradients.get(spec.file)!);
          console.log(`${spec.file}: tfjs-wasm vs tfjs-cpu relative max error ${error.toExponential(2)}, cosine ${cos}`);
          expect(error).toBeLessThanOrEqual(spec.wasmAgreement?.maxError ?? PARITY_TOLERANCE);
          expect(cos).toBeGreaterThanOrEqual(spec.wasmAgreement?.cosine ?? 1 - 1e-9);
        }
      } finally {
        model.dispose();
      }
    },
    240_000,
  );
});

describe('outputName on a shipped GraphModel', () => {
  it('names a node of the graph; an unknown name is an INVALID_OPTION listing the outputs', async () => {
    await useBackend('cpu');
    const model = await loadHumanModel('faceres');
    try {
      // faceres has three outputs: without outputName it is refused.
      expect(() => createTfjsBackend(model)).toThrow(/3 outputs/);
      expect(() => createTfjsBackend(model, { outputName: 'no/such/node' })).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTION',
          message: expect.stringMatching(/no node named "no\/such\/node".*age_pred\/Softmax/),
        }),
      );
      // The gender head ends in a sigmoid: a probability head, left out by default (docs/methods.md, "Output heads"); one score [R, 1].
      const x = hostTensor(image([1, 224, 224, 3], 2), [1, 224, 224, 3]);
      const gender = createTfjsBackend(model, { outputName: 'gender_pred/Sigmoid' });
      expect(gender.description).toBe('GraphModel without its final Sigmoid (gender_pred/Sigmoid)');
      const logits = await gender.logits(x);
      expect(logits.shape).toEqual([1, 1]);
      const kept = createTfjsBackend(model, { outputName: 'gender_pred/Sigmoid', softmax: 'keep' });
      expect(kept.description).toBe('GraphModel output gender_pred/Sigmoid');
      const probability = await kept.logits(x);
      expect(probability.data[0]).toBeCloseTo(1 / (1 + Math.exp(-logits.data[0]!)), 6);
    } finally {
      model.dispose();
    }
  }, 120_000);
});
