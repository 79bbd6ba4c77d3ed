import { hostTensor, oneHotRows, type GradientMoments, type HostTensor, type RowGradients } from '@saliency/core';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildGradientModel, COTANGENT_INPUT, M2_OUTPUT, MEAN_OUTPUT } from '../src/autodiff/build-gradient-model.js';
import type { ExecutionProvider } from '../src/execution-provider/execution-provider.js';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { readOnnxModel } from '../src/model/onnx-model.js';
import { prepareModel } from '../src/passes/prepare-model.js';
import { uniformValues } from './helpers/check-gradient.js';
import { freeSizeCnn } from './helpers/free-size-cnn.js';
import { mlpFixture } from './helpers/mlp-model.js';

/*
 * A moments call takes one cotangent row per group, expanded in the graph to
 * the group's rows, and fetches only the moments (its graph has no logits
 * output): besides the rows themselves, what goes up and comes back does not
 * grow with the group size N. The moments must be those of the graph fed one
 * one-hot row per row (the form before), bit for bit.
 */

const CNN = { bytes: freeSizeCnn(8), example: [3, 6, 6], classes: 10 } as const;
const MLP = { bytes: mlpFixture({ head: 'none' }).bytes, example: [6], classes: 4 } as const;
type Fixture = typeof CNN | typeof MLP;

interface RunBytes {
  /** Bytes of the feeds other than the attributed input (the cotangent, feeds). */
  up: number;
  /** Bytes of the outputs a run returned. */
  down: number;
}

/** onnxruntime-node itself, with every session's `run` measured: the bytes of its feeds and of what it returned. */
function measuringOrt(inputName: string): { module: OnnxRuntimeModule; runs: RunBytes[] } {
  const runs: RunBytes[] = [];
  const module: OnnxRuntimeModule = {
    Tensor: ort.Tensor as unknown as OnnxRuntimeModule['Tensor'],
    InferenceSession: {
      async create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> {
        const session = await ort.InferenceSession.create(model, options);
        const run = session.run.bind(session) as (...args: unknown[]) => Promise<InferenceSession.OnnxValueMapType>;
        session.run = (async (feeds: InferenceSession.FeedsType, ...rest: unknown[]) => {
          const outputs = await run(feeds, ...rest);
          const bytes = (tensors: Iterable<[string, unknown]>) =>
            [...tensors].reduce((sum, [, t]) => sum + ((t as Tensor).data as Float32Array).byteLength, 0);
          runs.push({
            up: bytes(Object.entries(feeds).filter(([name]) => name !== inputName)),
            down: bytes(Object.entries(outputs)),
          });
          return outputs;
        }) as InferenceSession['run'];
        return session as unknown as InferenceSession;
      },
    },
  };
  return { module, runs };
}

function rows(fixture: Fixture, count: number, seed: number): HostTensor {
  const size = fixture.example.reduce((a, b) => a * b, 1);
  return hostTensor(Float32Array.from(uniformValues(count * size, seed, -1, 1)), [count, ...fixture.example]);
}

/** Each group's target, repeated over its N rows, as core's engine passes them. */
function groupTargets(groups: readonly number[], n: number): Int32Array {
  return Int32Array.from({ length: groups.length * n }, (_, r) => groups[Math.floor(r / n)]!);
}

/** The moments graph fed one one-hot cotangent row per row, run on onnxruntime-node. */
async function perRowMoments(
  fixture: Fixture,
  x: HostTensor,
  targets: Int32Array,
  groupSize: number,
  executionProvider: ExecutionProvider,
): Promise<{ mean: Float32Array; m2: Float32Array }> {
  const model = prepareModel(readOnnxModel(fixture.bytes));
  const built = buildGradientModel(model, {
    inputName: 'input',
    inputShape: x.shape,
    outputName: 'output',
    keepSoftmax: false,
    result: 'moments',
    groupSize,
    executionProvider,
  });
  const session = await ort.InferenceSession.create(built.bytes);
  try {
    const outputs = await session.run({
      input: new ort.Tensor('float32', x.data, [...x.shape]),
      [COTANGENT_INPUT]: new ort.Tensor('float32', oneHotRows(targets, fixture.classes), [...built.logitsShape]),
    });
    return { mean: outputs[MEAN_OUTPUT]!.data as Float32Array, m2: outputs[M2_OUTPUT]!.data as Float32Array };
  } finally {
    await session.release();
  }
}

function moments(result: GradientMoments | RowGradients): GradientMoments {
  if ('gradients' in result) throw new Error('expected moments reduced in the graph');
  return result;
}

describe('moments calls: what goes up and comes back besides the rows does not grow with N', () => {
  it.each([
    ['cnn', CNN],
    ['mlp', MLP],
  ] as const)('%s: the cotangent up is one row per group and only mean and m2 come back, at N = 4 and 16', async (_, fixture) => {
    const groups = [3, 1];
    const size = fixture.example.reduce((a, b) => a * b, 1);
    const measured: RunBytes[] = [];
    for (const n of [4, 16]) {
      const { module, runs } = measuringOrt('input');
      const backend = createOnnxBackend(module, fixture.bytes);
      try {
        moments(await backend.gradientMoments(rows(fixture, groups.length * n, 7), groupTargets(groups, n), n));
      } finally {
        await backend.dispose();
      }
      expect(runs).toHaveLength(1);
      measured.push(runs[0]!);
    }
    // G one-hot rows of K float32 up; G means and G m2 of the example's size down.
    const expected = { up: groups.length * fixture.classes * 4, down: 2 * groups.length * size * 4 };
    expect(measured).toEqual([expected, expected]);
  });

  it('a gradient call fetches the gradient only, not the rows’ logits', async () => {
    const { module, runs } = measuringOrt('input');
    const backend = createOnnxBackend(module, CNN.bytes);
    try {
      await backend.gradients(rows(CNN, 5, 3), Int32Array.from([0, 1, 2, 3, 4]));
    } finally {
      await backend.dispose();
    }
    expect(runs.map((r) => r.down)).toEqual([5 * 3 * 6 * 6 * 4]);
  });
});

describe('moments from one cotangent row per group equal those of one row per row, bit for bit (onnxruntime-node)', () => {
  it.each([
    ['cnn', CNN, 'cpu'],
    ['mlp', MLP, 'cpu'],
    ['mlp, the form built for WebGL (Mul by ones)', MLP, 'webgl'],
    ['mlp, the form built for WebGPU (Expand)', MLP, 'webgpu'],
  ] as const)('%s', async (_, fixture, executionProvider) => {
    const n = 8;
    const x = rows(fixture, 3 * n, 11);
    const targets = groupTargets([2, 0, 3], n);
    const backend = createOnnxBackend(ort as unknown as OnnxRuntimeModule, fixture.bytes, { executionProvider });
    try {
      const result = moments(await backend.gradientMoments(x, targets, n));
      const expected = await perRowMoments(fixture, x, targets, n, executionProvider);
      expect(result.mean.data).toEqual(expected.mean);
      expect(result.m2.data).toEqual(expected.m2);
    } finally {
      await backend.dispose();
    }
  });

  it('targets that differ within a group keep one cotangent row per row', async () => {
    const n = 4;
    const x = rows(CNN, 2 * n, 5);
    const targets = Int32Array.from([0, 1, 2, 3, 4, 4, 4, 4]);
    const { module, runs } = measuringOrt('input');
    const backend = createOnnxBackend(module, CNN.bytes);
    try {
      const result = moments(await backend.gradientMoments(x, targets, n));
      const expected = await perRowMoments(CNN, x, targets, n, 'cpu');
      expect(result.mean.data).toEqual(expected.mean);
      expect(result.m2.data).toEqual(expected.m2);
      expect(runs.map((r) => r.up)).toEqual([2 * n * CNN.classes * 4]);
    } finally {
      await backend.dispose();
    }
  });
});
