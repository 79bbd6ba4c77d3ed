import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { AttributionError, explain, hostTensor } from '@saliency/core';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { DataType } from '../src/model/data-type.js';
import { node as graphNode, onnxBytes, valueInfo } from './helpers/onnx-model-builder.js';

/**
 * LRP (docs/methods.md, "LRP") against scripts/make-lrp-references.py:
 * explicit layer-by-layer relevance propagation in PyTorch (float64), on a
 * VGG-style net, a ResNet block with BatchNorm and a residual Add, a
 * MobileNet-style depthwise net, a net without biases and a MobileNetV2-style
 * net with ReLU6 (ONNX Clip; inputs past 6 in every one, where relevance
 * passes and the gradient would be 0), their BatchNormalization kept as ONNX
 * nodes so that the backend folds them.
 */
interface Reference {
  model: string;
  onnx: string;
  /** How many inputs of each ReLU6 lie above 6, of how many. */
  relu6Inputs?: { above6: number; total: number }[];
  inputShape: number[];
  input: number[];
  targets: number[];
  logits: number[];
  maps: Record<string, number[]>;
}

const TOLERANCE = 1e-5;
const fixtures = new URL('./fixtures/lrp/', import.meta.url);
const repository = new URL('../../../', import.meta.url);
const names = readdirSync(fixtures)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5));
const node = ortNode as unknown as OnnxRuntimeModule;
const wasm: [OnnxRuntimeModule, object] = [ortWeb as unknown as OnnxRuntimeModule, { executionProviders: ['wasm'] }];
/** The methods also run on onnxruntime-web's wasm: one of each family. */
const WASM_SUBSET = [
  'lrp_epsilon_0_1',
  'lrpsign_epsilon_0_25_std_x',
  'lrp_alpha_2_beta_1',
  'w2lrp_alpha_1_beta_0',
  'lrp_epsilon_gamma_box',
];
/**
 * Rules that conserve relevance where no denominator is 0 (biases take no
 * share under them): the input relevance sums to the target logit. On the
 * MobileNet-style net some depthwise windows of zeros carry a bias alone, so
 * it is left out; the z-rule conserves without biases only.
 */
const CONSERVING: Record<string, string[]> = {
  vgg: ['lrp_zplus', 'lrp_alpha_1_beta_0', 'lrp_alpha_2_beta_1', 'w2lrp_alpha_1_beta_0', 'flatlrp_zplus'],
  resnet: ['lrp_zplus', 'lrp_alpha_1_beta_0', 'lrp_alpha_2_beta_1', 'w2lrp_alpha_1_beta_0', 'flatlrp_zplus'],
  nobias: ['lrp_z', 'lrp_zplus', 'lrp_alpha_1_beta_0', 'flatlrp_z', 'w2lrp_alpha_1_beta_0'],
};

describe.each(names)('LRP on %s against explicit PyTorch relevance propagation', (name) => {
  const reference: Reference = JSON.parse(readFileSync(new URL(`${name}.json`, fixtures), 'utf8'));
  const bytes = readFileSync(new URL(reference.onnx, repository));
  const x = hostTensor(Float32Array.from(reference.input), reference.inputShape);
  const target = reference.targets;
  const methods = Object.keys(reference.maps);

  // The ReLU6 net also exported at opset 10, where Clip's bounds are attributes.
  const exports: [string, Uint8Array][] = [['', bytes]];
  if (reference.relu6Inputs !== undefined) {
    exports.push([' (opset 10)', readFileSync(new URL(reference.onnx.replace(/\.onnx$/, '-opset10.onnx'), repository))]);
  }

  it.runIf(reference.relu6Inputs !== undefined)('drives some inputs of every ReLU6 past 6, where its rule matters', () => {
    for (const { above6, total } of reference.relu6Inputs!) {
      expect(above6).toBeGreaterThan(0);
      expect(above6).toBeLessThan(total);
    }
  });

  it.each(exports)(`gives each of ${methods.length} methods within ${TOLERANCE} on onnxruntime-node%s`, async (_, bytes) => {
    const backend = createOnnxBackend(node, bytes);
    try {
      expect(maxRelativeError((await backend.logits(x)).data, reference.logits), 'logits').toBeLessThanOrEqual(TOLERANCE);
      for (const method of methods) {
        const map = await explain(backend, method, x, { target });
        expect(map.shape).toEqual(reference.inputShape);
        expect(maxRelativeError(map.data, reference.maps[method]!), method).toBeLessThanOrEqual(TOLERANCE);
      }
    } finally {
      await backend.dispose();
    }
  });

  it('gives a subset on onnxruntime-web wasm', async () => {
    const backend = createOnnxBackend(wasm[0], bytes, { sessionOptions: wasm[1] });
    try {
      for (const method of WASM_SUBSET) {
        const map = await explain(backend, method, x, { target });
        expect(maxRelativeError(map.data, reference.maps[method]!), method).toBeLessThanOrEqual(TOLERANCE);
      }
    } finally {
      await backend.dispose();
    }
  });

  it.runIf(CONSERVING[name] !== undefined)('conserves relevance: the input relevance sums to the explained logit', async () => {
    const backend = createOnnxBackend(node, bytes);
    try {
      const logits = (await backend.logits(x)).data;
      const classes = logits.length / target.length;
      const size = x.data.length / target.length;
      for (const method of CONSERVING[name]!) {
        const map = await explain(backend, method, x, { target });
        target.forEach((t, b) => {
          const row = map.data.subarray(b * size, (b + 1) * size);
          const sum = row.reduce((a, v) => a + v, 0);
          const magnitude = row.reduce((a, v) => a + Math.abs(v), 0);
          // float32 sums of terms of both signs: held to their total magnitude.
          expect(Math.abs(sum - logits[b * classes + t]!), `${method}, example ${b}`).toBeLessThanOrEqual(1e-5 * magnitude);
        });
      }
    } finally {
      await backend.dispose();
    }
  });
});

describe('LRP refuses what its rules do not cover', () => {
  it('names an op outside the rules and its node', async () => {
    const bytes = onnxBytes({
      nodes: [graphNode('Sigmoid', ['input'], ['s'], {}, 'squash'), graphNode('Flatten', ['s'], ['logits'])],
      inputs: [valueInfo('input', [1, 2])],
      outputs: [valueInfo('logits', [1, 2])],
    });
    const backend = createOnnxBackend(node, bytes);
    try {
      const error = await explain(backend, 'lrp_epsilon_0_1', hostTensor(Float32Array.of(0.5, -1), [1, 2]), { target: 0 }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AttributionError);
      expect((error as AttributionError).code).toBe('UNSUPPORTED_MODEL');
      expect((error as AttributionError).message).toMatch(/^Sigmoid node "squash": LRP has no rule for Sigmoid; it propagates relevance through Conv/);
    } finally {
      await backend.dispose();
    }
  });

  /** input [1, 2, 4, 4] → `before` → Conv (2 → 2, 4 × 4 kernel) → Flatten: logits [1, 2]. */
  const convNet = (before: ReturnType<typeof graphNode>[], convInput: string) =>
    onnxBytes({
      nodes: [...before, graphNode('Conv', [convInput, 'w'], ['c'], {}, 'conv'), graphNode('Flatten', ['c'], ['logits'])],
      initializers: {
        w: { dims: [2, 2, 4, 4], values: Array.from({ length: 64 }, (_, i) => Math.sin(i)) },
        scale: { dims: [2], values: [1.5, 0.5] },
        shift: { dims: [2], values: [0.1, -0.2] },
        mean: { dims: [2], values: [0.3, -0.1] },
        variance: { dims: [2], values: [0.8, 1.2] },
      },
      inputs: [valueInfo('input', [1, 2, 4, 4])],
      outputs: [valueInfo('logits', [1, 2])],
    });
  const x = hostTensor(
    Float32Array.from({ length: 32 }, (_, i) => Math.cos(i)),
    [1, 2, 4, 4],
  );
  const refusal = async (bytes: Uint8Array, method: string) => {
    const backend = createOnnxBackend(node, bytes);
    try {
      const error = await explain(backend, method, x, { target: 0 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AttributionError);
      return error as AttributionError;
    } finally {
      await backend.dispose();
    }
  };

  it('names a Clip whose bound is computed in the graph: relevance passes through constant bounds only', async () => {
    // max = the input's mean, as a scalar: known only when the model runs.
    const bytes = onnxBytes({
      nodes: [
        graphNode('GlobalAveragePool', ['input'], ['mean'], {}, 'mean'),
        graphNode('Reshape', ['mean', 'scalarShape'], ['computed'], {}, 'scalar'),
        graphNode('Clip', ['input', 'low', 'computed'], ['clipped'], {}, 'relu6ish'),
        graphNode('Conv', ['clipped', 'w'], ['c'], {}, 'conv'),
        graphNode('Flatten', ['c'], ['logits']),
      ],
      initializers: {
        w: { dims: [2, 1, 4, 4], values: Array.from({ length: 32 }, (_, i) => Math.sin(i)) },
        scalarShape: { dims: [0], values: [], dataType: DataType.INT64 },
        low: { dims: [], values: [0] },
      },
      inputs: [valueInfo('input', [1, 1, 4, 4])],
      outputs: [valueInfo('logits', [1, 2])],
    });
    const backend = createOnnxBackend(node, bytes);
    try {
      const input = hostTensor(Float32Array.from({ length: 16 }, (_, i) => Math.cos(i)), [1, 1, 4, 4]);
      const error = await explain(backend, 'lrp_epsilon_0_1', input, { target: 0 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AttributionError);
      expect((error as AttributionError).code).toBe('UNSUPPORTED_MODEL');
      expect((error as AttributionError).message).toMatch(
        /^Clip node "relu6ish".*: LRP passes relevance through Clip with constant bounds only, and its max \(input 2, "computed"\)/,
      );
    } finally {
      await backend.dispose();
    }
  });

  it('names a BatchNormalization that follows no Conv, which it cannot fold', async () => {
    const bn = graphNode('BatchNormalization', ['input', 'scale', 'shift', 'mean', 'variance'], ['normed'], {}, 'bn');
    const error = await refusal(convNet([bn], 'normed'), 'lrp_epsilon_0_1');
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toBe(
      'BatchNormalization node "bn": LRP folds BatchNormalization into the Conv before it, but its input "input" is not the output of a Conv',
    );
  });

  it('refuses a first-layer rule that gives relevance (w², flat, zB) where an op reads the input before the first layer', async () => {
    const relu = graphNode('Relu', ['input'], ['rectified'], {}, 'relu');
    const error = await refusal(convNet([relu], 'rectified'), 'w2lrp_epsilon_0_1');
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toMatch(/^Relu node "relu" reads the model input "input" before any Conv, Gemm or MatMul/);
    // A rule giving x ⊙ c takes it.
    const backend = createOnnxBackend(node, convNet([relu], 'rectified'));
    try {
      expect((await explain(backend, 'lrp_epsilon_0_1', x, { target: 0 })).data.every(Number.isFinite)).toBe(true);
    } finally {
      await backend.dispose();
    }
  });
});
