import { fromBinary } from '@bufbuild/protobuf';
import { AttributionError, hostTensor, momentsOfGroups, type GradientMoments, type HostTensor, type RowGradients } from '@saliency/core';
import type { InferenceSession } from 'onnxruntime-common';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildGradientModel } from '../src/autodiff/build-gradient-model.js';
import { ModelProtoSchema } from '../src/proto/onnx_pb.js';
import { createOnnxBackend, type OnnxBackendOptions, type OnnxRuntimeModule } from '../src/index.js';
import { batchTextureRows, largestFittingCount } from '../src/runtime/row-splitting.js';
import { expectClose, uniformValues } from './helpers/check-gradient.js';
import { node, onnxBytes, valueInfo } from './helpers/onnx-model-builder.js';

/*
 * On WebGL, a call whose graph would hold a tensor of more texture rows (all
 * dimensions but the last, multiplied) than the maximum texture size runs as
 * several calls of fewer rows. The graphs built for WebGL are standard ops, so
 * onnxruntime-node runs them: split results must equal those of one run of
 * the same graph form with no limit.
 *
 * The model: x [N, 3, 24, 24] → Conv (16 channels, 3×3, pad 1) → Relu →
 * Flatten → Gemm → [N, 5]. Its largest batch-dependent tensors are the
 * [N, 16, 24, 24] activation and its cotangent: 16·24 = 384 texture rows per
 * batch row; the input and its gradient have 3·24 = 72, the flattened
 * [N, 9216] ones 1.
 */
const ROWS_PER_EXAMPLE = 16 * 24;
const EXAMPLE = [3, 24, 24] as const;
const EXAMPLE_SIZE = 3 * 24 * 24;
const CLASSES = 5;

const modelBytes = onnxBytes({
  nodes: [
    node('Conv', ['input', 'w', 'b'], ['conv'], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } }),
    node('Relu', ['conv'], ['relu']),
    node('Flatten', ['relu'], ['flat'], { axis: { int: 1 } }),
    node('Gemm', ['flat', 'fc', 'fcb'], ['logits'], { transB: { int: 1 } }),
  ],
  initializers: {
    w: { dims: [16, 3, 3, 3], values: uniformValues(16 * 27, 11, -0.4, 0.4) },
    b: { dims: [16], values: uniformValues(16, 12, -0.2, 0.2) },
    fc: { dims: [CLASSES, 16 * 24 * 24], values: uniformValues(CLASSES * 9216, 13, -0.05, 0.05) },
    fcb: { dims: [CLASSES], values: uniformValues(CLASSES, 14, -0.1, 0.1) },
  },
  inputs: [valueInfo('input', ['N', ...EXAMPLE])],
  outputs: [valueInfo('logits', ['N', CLASSES])],
});

function batch(rows: number, seed: number): { x: HostTensor; targets: Int32Array } {
  const x = hostTensor(Float32Array.from(uniformValues(rows * EXAMPLE_SIZE, seed, -1, 1)), [rows, ...EXAMPLE]);
  return { x, targets: Int32Array.from({ length: rows }, (_, r) => (r * 3 + seed) % CLASSES) };
}

/** onnxruntime-node, recording the rows (first input dimension) of every session made and every run. */
function recordingOrt(): { module: OnnxRuntimeModule; runRows: number[]; sessionRows: number[] } {
  const runRows: number[] = [];
  const sessionRows: number[] = [];
  const module: OnnxRuntimeModule = {
    Tensor: ort.Tensor as unknown as OnnxRuntimeModule['Tensor'],
    InferenceSession: {
      async create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> {
        const inputType = fromBinary(ModelProtoSchema, model).graph!.input[0]!.type!.value;
        const first = inputType.case === 'tensorType' ? inputType.value.shape!.dim[0]!.value : undefined;
        sessionRows.push(first?.case === 'dimValue' ? Number(first.value) : -1);
        const session = (await ort.InferenceSession.create(model, options)) as unknown as InferenceSession;
        const run = session.run.bind(session) as (feeds: InferenceSession.FeedsType) => Promise<InferenceSession.ReturnType>;
        session.run = (async (feeds: InferenceSession.FeedsType) => {
          runRows.push(feeds['input']!.dims[0]!);
          return run(feeds);
        }) as InferenceSession['run'];
        return session;
      },
    },
  };
  return { module, runRows, sessionRows };
}

async function withBackend<T>(
  options: OnnxBackendOptions,
  use: (backend: ReturnType<typeof createOnnxBackend>, runRows: number[], sessionRows: number[]) => Promise<T>,
): Promise<T> {
  const { module, runRows, sessionRows } = recordingOrt();
  const backend = createOnnxBackend(module, modelBytes, options);
  try {
    return await use(backend, runRows, sessionRows);
  } finally {
    await backend.dispose();
  }
}

/** The same WebGL-form graph, run in one call per request. */
const UNSPLIT: OnnxBackendOptions = { executionProvider: 'webgl', maxTextureSize: 1 << 30 };

/**
 * Moments as core takes them from `gradientMoments`: as they are, or, where
 * the backend returned per-row gradients, their per-group mean and M2 in
 * float64, as core's engine reduces them.
 */
function asMoments(result: GradientMoments | RowGradients, groupSize: number): GradientMoments {
  return 'gradients' in result ? momentsOfGroups(result.gradients, groupSize) : result;
}

function expectSameMoments(actual: GradientMoments, expected: GradientMoments, tolerance: number, label: string): void {
  expect(actual.count).toBe(expected.count);
  expect(actual.mean.shape).toEqual(expected.mean.shape);
  expect(actual.m2.shape).toEqual(expected.m2.shape);
  expectClose(actual.mean.data, expected.mean.data, tolerance, `${label}: mean`);
  if (expected.count === 1)
    expect(actual.m2.data.every((v) => v === 0) && expected.m2.data.every((v) => v === 0), `${label}: m2 of single rows`).toBe(true);
  else expectClose(actual.m2.data, expected.m2.data, tolerance, `${label}: m2`);
}

describe('texture rows of a built graph', () => {
  it('are the most rows per batch row, 16·24, times the rows; weights do not count', () => {
    for (const rows of [1, 4]) {
      const inputShape = [rows, ...EXAMPLE];
      for (const result of ['none', 'gradient'] as const) {
        const built = buildGradientModel(fromBinary(ModelProtoSchema, modelBytes), {
          inputName: 'input',
          inputShape,
          outputName: 'logits',
          keepSoftmax: false,
          result,
          executionProvider: 'webgl',
        });
        // The [5, 9216] Gemm weight alone would give 5 rows; the [16, 3, 3, 3] Conv weight 144.
        expect(batchTextureRows(built.bytes, 'input', inputShape, built.logitsShape)).toBe(rows * ROWS_PER_EXAMPLE);
      }
    }
  });

  it('give the largest fitting row count, floor(limit / 384): 21 under 8192, as for the parity model', () => {
    const measured: number[] = [];
    const rowsAt = (rows: number) => {
      measured.push(rows);
      const inputShape = [rows, ...EXAMPLE];
      const built = buildGradientModel(fromBinary(ModelProtoSchema, modelBytes), {
        inputName: 'input',
        inputShape,
        outputName: 'logits',
        keepSoftmax: false,
        result: 'gradient',
        executionProvider: 'webgl',
      });
      return batchTextureRows(built.bytes, 'input', inputShape, built.logitsShape);
    };
    expect(largestFittingCount(40, 8192, rowsAt)).toBe(21);
    expect(measured).toEqual([40, 21]);
    expect(largestFittingCount(21, 8192, rowsAt)).toBe(21);
    expect(largestFittingCount(5, 1000, rowsAt)).toBe(2);
    expect(largestFittingCount(5, 300, rowsAt)).toBe(0);
  });

  it('largestFittingCount refines an estimate that rows not proportional to the count make too large', () => {
    // rows(c) = 100·c + 500: at 10, 1500 > 1000; the estimate 6 gives 1100, then 5 gives 1000.
    expect(largestFittingCount(10, 1000, (c) => 100 * c + 500)).toBe(5);
  });
});

describe('OnnxBackend on the WebGL EP splits rows under the texture limit (onnxruntime-node)', () => {
  it('default limit 8192: 22 rows run as 21 + 1, with the logits and gradients of one run', async () => {
    const { x, targets } = batch(22, 1);
    const [logits, gradients] = await withBackend(UNSPLIT, async (backend, runRows) => {
      const result = [await backend.logits(x), await backend.gradients(x, targets)] as const;
      expect(runRows).toEqual([22, 22]);
      return result;
    });
    await withBackend({ executionProvider: 'webgl' }, async (backend, runRows) => {
      const splitLogits = await backend.logits(x);
      const splitGradients = await backend.gradients(x, targets);
      expect(runRows).toEqual([21, 1, 21, 1]);
      expect(splitLogits.shape).toEqual([22, CLASSES]);
      expect(splitGradients.shape).toEqual([22, ...EXAMPLE]);
      expectClose(splitLogits.data, logits.data, 1e-6, 'logits');
      expectClose(splitGradients.data, gradients.data, 1e-6, 'gradients');
    });
  });

  it('the WebGL EP in sessionOptions sets the execution provider too', async () => {
    // onnxruntime-node has no WebGL EP: the session fails, after the graph was measured and split.
    const { x } = batch(22, 2);
    await withBackend({ sessionOptions: { executionProviders: ['webgl'] } }, async (backend, _, sessionRows) => {
      await expect(backend.logits(x)).rejects.toThrow(/webgl/);
      expect(sessionRows).toEqual([21]);
    });
  });

  it('moments split at group boundaries, and a group too large for one run returned as per-row gradients for core to reduce', async () => {
    const { x, targets } = batch(6, 3);
    // Limit 1000: 2 rows (768 texture rows) fit, 3 (1152) do not.
    for (const [groupSize, expectedRuns, perRow] of [
      // The moments graph of even one group is over the limit: gradients in
      // runs of 2, the groups reduced by core.
      [1, [2, 2, 2], true],
      [2, [2, 2, 2], true],
      [3, [2, 2, 2], true],
      [6, [2, 2, 2], true],
    ] as const) {
      const unsplit = await withBackend(UNSPLIT, (backend) => backend.gradientMoments(x, targets, groupSize));
      await withBackend({ executionProvider: 'webgl', maxTextureSize: 1000 }, async (backend, runRows) => {
        const split = await backend.gradientMoments(x, targets, groupSize);
        expect(runRows, `groupSize ${groupSize}`).toEqual(expectedRuns);
        expect('gradients' in split, `groupSize ${groupSize}: per-row gradients`).toBe(perRow);
        expectSameMoments(asMoments(split, groupSize), asMoments(unsplit, groupSize), 1e-6, `groupSize ${groupSize}`);
      });
    }
  });

  it('moments of groups that fit in pairs run two groups at a time', async () => {
    const { x, targets } = batch(6, 4);
    const unsplit = await withBackend(UNSPLIT, (backend) => backend.gradientMoments(x, targets, 1));
    await withBackend({ executionProvider: 'webgl', maxTextureSize: 800 }, async (backend, runRows) => {
      const split = await backend.gradientMoments(x, targets, 1);
      expect(runRows).toEqual([2, 2, 2]);
      expectSameMoments(asMoments(split, 1), asMoments(unsplit, 1), 1e-6, 'groupSize 1');
    });
  });

  it('logits and gradients at a limit below one row run one row at a time', async () => {
    const { x, targets } = batch(3, 5);
    const gradients = await withBackend(UNSPLIT, (backend) => backend.gradients(x, targets));
    await withBackend({ executionProvider: 'webgl', maxTextureSize: 100 }, async (backend, runRows) => {
      expectClose((await backend.gradients(x, targets)).data, gradients.data, 1e-6, 'gradients');
      expect(runRows).toEqual([1, 1, 1]);
    });
  });

  it('other execution providers never split', async () => {
    const { x, targets } = batch(22, 6);
    await withBackend({ maxTextureSize: 100 }, async (backend, runRows) => {
      await backend.gradients(x, targets);
      expect(runRows).toEqual([22]);
    });
  });

  it('refuses a maxTextureSize that is not a positive integer', () => {
    for (const maxTextureSize of [0, -5, 1.5, Number.NaN]) {
      expect(() =>
        createOnnxBackend(ort as unknown as OnnxRuntimeModule, modelBytes, { executionProvider: 'webgl', maxTextureSize }),
      ).toThrow(AttributionError);
      expect(() =>
        createOnnxBackend(ort as unknown as OnnxRuntimeModule, modelBytes, { executionProvider: 'webgl', maxTextureSize }),
      ).toThrow(/maxTextureSize must be a positive integer/);
    }
  });
});
