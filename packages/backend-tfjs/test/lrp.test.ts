import { readFileSync } from 'node:fs';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { AttributionError, explain, hostTensor, type HostTensor } from '@saliency/core';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { createTfjsBackend } from '../src/index.js';
import { channelsLast, loadParityFixture } from './helpers/parity-fixtures.js';
import { attrs, GraphDefBuilder } from './helpers/graph-model.js';
import { lrpGraphTwin } from './helpers/lrp-graph-twins.js';
import { lrpTwin } from './helpers/lrp-twins.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';

/**
 * LRP (docs/methods.md, "LRP") on tfjs-layers twins of the ONNX backend's LRP
 * fixture nets (test/helpers/lrp-twins.ts, weights by
 * scripts/make-lrp-twins.py) and on the same nets as tfjs-converter
 * GraphModels (test/helpers/lrp-graph-twins.ts: fused and unfused
 * convolutions and MatMuls, FusedBatchNormV3, a Softmax head), against the references of
 * packages/backend-onnx/scripts/make-lrp-references.py: explicit
 * layer-by-layer relevance propagation in PyTorch, float64, on a VGG-style
 * net, a ResNet block with BatchNorm and a residual Add, a MobileNet-style
 * depthwise net, a net without biases and a MobileNetV2-style net with ReLU6
 * (inputs past 6 in every one: relevance passes there, where the gradient of
 * ReLU6 is 0). The references are channels first;
 * they are moved to channels last here.
 */
interface Reference {
  inputShape: number[];
  input: number[];
  targets: number[];
  logits: number[];
  maps: Record<string, number[]>;
}

const TOLERANCE = 1e-5;
const repository = new URL('../../../', import.meta.url);
const NETS = ['vgg', 'resnet', 'mobilenet', 'nobias', 'mobilenetv2'];
const FORMS = { LayersModel: lrpTwin, GraphModel: lrpGraphTwin };
const CASES = NETS.flatMap((name) => (['LayersModel', 'GraphModel'] as const).map((form) => [name, form] as const));
/** As in the ONNX backend's LRP tests: rules under which biases take no share (the z-rule only without biases). */
const CONSERVING: Record<string, string[]> = {
  vgg: ['lrp_zplus', 'lrp_alpha_1_beta_0', 'lrp_alpha_2_beta_1', 'w2lrp_alpha_1_beta_0', 'flatlrp_zplus'],
  resnet: ['lrp_zplus', 'lrp_alpha_1_beta_0', 'lrp_alpha_2_beta_1', 'w2lrp_alpha_1_beta_0', 'flatlrp_zplus'],
  nobias: ['lrp_z', 'lrp_zplus', 'lrp_alpha_1_beta_0', 'flatlrp_z', 'w2lrp_alpha_1_beta_0'],
};

const reference = (name: string): Reference =>
  JSON.parse(readFileSync(new URL(`packages/backend-onnx/test/fixtures/lrp/${name}.json`, repository), 'utf8')) as Reference;

describe.each(BACKENDS)('LRP on TF.js %s against explicit PyTorch relevance propagation', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it.each(CASES)(
    '%s as a %s: every method of the references within 1e-5, relevance conserved where the rule conserves',
    async (name, form) => {
      const ref = reference(name);
      const input = channelsLast(ref.input, ref.inputShape);
      const x = hostTensor(Float32Array.from(input.values), input.shape);
      const model = FORMS[form](name);
      const before = tf.memory().numTensors;
      try {
        const backend = createTfjsBackend(model);
        expect(backend.backwardRuleSets).toContain('lrp');
        expect(maxRelativeError((await backend.logits(x)).data, ref.logits), 'logits').toBeLessThanOrEqual(TOLERANCE);
        const maps = new Map<string, HostTensor>();
        for (const [method, expected] of Object.entries(ref.maps)) {
          const map = await explain(backend, method, x, { target: ref.targets });
          expect(map.shape).toEqual(input.shape);
          expect(maxRelativeError(map.data, channelsLast(expected, ref.inputShape).values), method).toBeLessThanOrEqual(TOLERANCE);
          maps.set(method, map);
        }
        const size = x.data.length / ref.targets.length;
        const classes = ref.logits.length / ref.targets.length;
        for (const method of CONSERVING[name] ?? []) {
          ref.targets.forEach((t, b) => {
            const row = maps.get(method)!.data.subarray(b * size, (b + 1) * size);
            const sum = row.reduce((a, v) => a + v, 0);
            const magnitude = row.reduce((a, v) => a + Math.abs(v), 0);
            // float32 sums of terms of both signs: held to their total magnitude.
            expect(Math.abs(sum - ref.logits[b * classes + t]!), `${method} conserves, example ${b}`).toBeLessThanOrEqual(1e-5 * magnitude);
          });
        }
        // The folded weights and every intermediate tensor are gone; the model's weights untouched.
        expect(tf.memory().numTensors).toBe(before);
        expect(maxRelativeError((await backend.logits(x)).data, ref.logits), 'logits afterwards').toBeLessThanOrEqual(TOLERANCE);
      } finally {
        model.dispose();
      }
    },
  );
});

/**
 * The parity fixture cnn1d (Conv1D, BatchNormalization, ReLU, MaxPooling1D,
 * GlobalAveragePooling1D, Dense) against the parity app's PyTorch
 * layer-by-layer LRP in float64 (apps/parity/fixtures/make-xai-references.py)
 * at the parity input, both channels first. A row the reference records as
 * not applicable (not float32-stable there) is left out, as the parity app does.
 */
describe.each(BACKENDS)('LRP through Conv1D and 1-D pooling on TF.js %s against PyTorch', (backendName) => {
  beforeAll(() => useBackend(backendName));
  const ROWS = ['lrp_epsilon_0_1', 'lrp_alpha_1_beta_0', 'lrpsign_epsilon_0_1', 'lrp_epsilon_plus_flat'];

  it('cnn1d: the parity LRP rows within 1e-5', async () => {
    const parityFile = (folder: string) =>
      JSON.parse(readFileSync(new URL(`apps/parity/fixtures/${folder}/cnn1d.json`, repository), 'utf8')) as Record<string, unknown>;
    const fixture = parityFile('reference') as { input: number[]; inputShape: number[]; targets: number[] };
    const xai = parityFile('xai-reference') as Record<string, number[]> & { notApplicable: Record<string, string> };
    const input = channelsLast(fixture.input, fixture.inputShape);
    const x = hostTensor(Float32Array.from(input.values), input.shape);
    const model = await loadParityFixture('cnn1d');
    const before = tf.memory().numTensors;
    try {
      const backend = createTfjsBackend(model);
      const rows = ROWS.filter((row) => !(row in xai.notApplicable));
      expect(rows).toEqual(['lrp_epsilon_0_1', 'lrp_alpha_1_beta_0', 'lrp_epsilon_plus_flat']);
      for (const row of rows) {
        const map = await explain(backend, row, x, { target: fixture.targets });
        expect(maxRelativeError(map.data, channelsLast(xai[row]!, fixture.inputShape).values), row).toBeLessThanOrEqual(TOLERANCE);
      }
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });
});

describe('LRP on other forms of the LayersModels', () => {
  beforeAll(() => useBackend('cpu'));

  it('a strided Conv1D and AveragePooling1D: LRP-z (the ordinary gradient at every layer) is Gradient × Input by tfjs-layers', async () => {
    const input = tfl.input({ shape: [10, 3] });
    const layers = [
      tfl.layers.conv1d({ filters: 4, kernelSize: 3, strides: 2, activation: 'relu' }),
      tfl.layers.averagePooling1d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 2 }),
    ];
    const model = tfl.model({ inputs: input, outputs: layers.reduce((t, l) => l.apply(t) as tfl.SymbolicTensor, input) });
    const x = hostTensor(
      Float32Array.from({ length: 2 * 10 * 3 }, (_, i) => Math.sin(1.7 * i)),
      [2, 10, 3],
    );
    try {
      const backend = createTfjsBackend(model);
      const map = await explain(backend, 'lrp_z', x, { target: [0, 1] });
      const gradient = await backend.gradients(x, Int32Array.from([0, 1]));
      const expected = Array.from(gradient.data, (g, i) => g * x.data[i]!);
      expect(maxRelativeError(map.data, expected)).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      model.dispose();
    }
  });

  it('a Sequential of the twin layers gives the reference maps', async () => {
    const ref = reference('vgg');
    const input = channelsLast(ref.input, ref.inputShape);
    const x = hostTensor(Float32Array.from(input.values), input.shape);
    const functional = lrpTwin('vgg');
    const sequential = tfl.sequential({ layers: [tfl.layers.inputLayer({ inputShape: [8, 8, 3] }), ...functional.layers.slice(1)] });
    try {
      for (const method of ['lrp_epsilon_0_1', 'lrp_alpha_2_beta_1', 'w2lrp_alpha_1_beta_0']) {
        const map = await explain(createTfjsBackend(sequential), method, x, { target: ref.targets });
        expect(maxRelativeError(map.data, channelsLast(ref.maps[method]!, ref.inputShape).values), method).toBeLessThanOrEqual(TOLERANCE);
      }
    } finally {
      functional.dispose();
    }
  });

  it('leaves out a softmax fused into the last Dense layer, as for gradients', async () => {
    const ref = reference('nobias');
    const input = channelsLast(ref.input, ref.inputShape);
    const x = hostTensor(Float32Array.from(input.values), input.shape);
    const twin = lrpTwin('nobias');
    const head = tfl.layers.dense({ units: 5, useBias: false, activation: 'softmax' });
    const probabilities = tfl.model({ inputs: twin.inputs, outputs: head.apply(twin.layers.at(-2)!.output) as tfl.SymbolicTensor });
    head.setWeights(twin.layers.at(-1)!.getWeights());
    try {
      const map = await explain(createTfjsBackend(probabilities), 'lrp_alpha_1_beta_0', x, { target: ref.targets });
      expect(maxRelativeError(map.data, channelsLast(ref.maps['lrp_alpha_1_beta_0']!, ref.inputShape).values)).toBeLessThanOrEqual(
        TOLERANCE,
      );
      const kept = await explain(createTfjsBackend(probabilities, { softmax: 'keep' }), 'lrp_z', x, { target: ref.targets }).catch(
        (e: unknown) => e,
      );
      expect((kept as AttributionError).code).toBe('UNSUPPORTED_MODEL');
      expect((kept as AttributionError).message).toMatch(/\(Dense\): LRP has no rule for the activation softmax/);
    } finally {
      probabilities.dispose();
    }
  });
});

describe('LRP refuses what its rules do not cover', () => {
  beforeAll(() => useBackend('cpu'));
  const x = hostTensor(
    Float32Array.from({ length: 2 * 4 * 4 * 2 }, (_, i) => Math.cos(i)),
    [2, 4, 4, 2],
  );
  /** input [4, 4, 2] → `before` → Conv2D (valid 4 × 4, 3 filters) → Flatten: logits [B, 3]. */
  const convNet = (before: tfl.layers.Layer[], convActivation: 'linear' | 'tanh' = 'linear') => {
    const input = tfl.input({ shape: [4, 4, 2] });
    const layers = [
      ...before,
      tfl.layers.conv2d({ filters: 3, kernelSize: 4, activation: convActivation, name: 'conv' }),
      tfl.layers.flatten(),
    ];
    return tfl.model({ inputs: input, outputs: layers.reduce((t, l) => l.apply(t) as tfl.SymbolicTensor, input) });
  };
  /** input [4, 4, 2] → `before` → _FusedConv2D (valid 4 × 4, 3 filters, `fusedOps`) → Reshape: logits [B, 3], as a GraphModel. */
  const graphNet = (before: (graph: GraphDefBuilder, x: string) => string, fusedOps = ['BiasAdd']) => {
    const graph = new GraphDefBuilder();
    const value = before(graph, graph.placeholder('input', [-1, 4, 4, 2]));
    const kernel = graph.constant(
      'conv/kernel',
      [4, 4, 2, 3],
      Array.from({ length: 96 }, (_, i) => Math.sin(i)),
    );
    const bias = graph.constant('conv/bias', [3], [0.1, -0.2, 0.3]);
    const conv = graph.op('conv', '_FusedConv2D', [value, kernel, bias], {
      strides: attrs.ints([1, 1, 1, 1]),
      padding: attrs.string('VALID'),
      data_format: attrs.string('NHWC'),
      dilations: attrs.ints([1, 1, 1, 1]),
      fused_ops: attrs.strings(fusedOps),
      num_args: attrs.int(1),
    });
    graph.op('logits', 'Reshape', [conv, graph.constantInt32('shape', [-1, 3])]);
    return graph.load();
  };
  const refusal = async (model: tfl.LayersModel | ReturnType<typeof graphNet> | ((x: tf.Tensor) => tf.Tensor), method: string) => {
    try {
      const before = tf.memory().numTensors;
      const error = await explain(createTfjsBackend(model), method, x, { target: 0 }).catch((e: unknown) => e);
      expect(tf.memory().numTensors, 'tensors left after the refusal').toBe(before);
      expect(error).toBeInstanceOf(AttributionError);
      return error as AttributionError;
    } finally {
      if (typeof model !== 'function') model.dispose();
    }
  };

  it('names a layer outside the rules', async () => {
    const error = await refusal(convNet([], 'tanh'), 'lrp_epsilon_0_1');
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toMatch(
      /^layer "conv" \(Conv2D\): LRP has no rule for the activation tanh; it propagates relevance through Conv1D, Conv2D/,
    );
    const leaky = await refusal(convNet([tfl.layers.leakyReLU({ name: 'leaky' })]), 'lrp_z');
    expect(leaky.code).toBe('UNSUPPORTED_MODEL');
    expect(leaky.message).toMatch(/^layer "leaky" \(LeakyReLU\): LRP has no rule for LeakyReLU/);
  });

  it('names a BatchNormalization that follows no convolution, which it cannot fold', async () => {
    const error = await refusal(convNet([tfl.layers.batchNormalization({ name: 'bn' })]), 'lrp_epsilon_0_1');
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toMatch(
      /^layer "bn" \(BatchNormalization\): LRP folds BatchNormalization .* into the Conv1D, Conv2D, DepthwiseConv2D before it/,
    );
  });

  it('refuses a first-layer rule that gives relevance (w², flat, zB) where a layer reads the input before the first layer', async () => {
    const error = await refusal(convNet([tfl.layers.reLU({ name: 'relu' })]), 'w2lrp_epsilon_0_1');
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toMatch(/^layer "relu" \(ReLU\): it reads the model input before any Conv1D, Conv2D, DepthwiseConv2D, Dense/);
    // A rule giving x ⊙ c takes it.
    const model = convNet([tfl.layers.reLU()]);
    try {
      expect((await explain(createTfjsBackend(model), 'lrp_epsilon_0_1', x, { target: 0 })).data.every(Number.isFinite)).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it('names a GraphModel node outside the rules, before any tensor is made', async () => {
    const tanh = await refusal(
      graphNet((graph, input) => graph.op('tanh', 'Tanh', [input])),
      'lrp_epsilon_0_1',
    );
    expect(tanh.code).toBe('UNSUPPORTED_MODEL');
    expect(tanh.message).toMatch(/^node "tanh" \(Tanh\): LRP has no rule for Tanh; it propagates relevance through Conv2D, _FusedConv2D/);
    const elu = await refusal(
      graphNet((_, input) => input, ['BiasAdd', 'Elu']),
      'lrp_zplus',
    );
    expect(elu.message).toMatch(/^node "conv" \(_FusedConv2D\): LRP has no rule for the fused ops \["biasadd","elu"\]/);
    const product = await refusal(
      graphNet((graph, input) => graph.op('square', 'Mul', [input, input])),
      'lrp_zplus',
    );
    expect(product.message).toMatch(/^node "square" \(Mul\): LRP has no rule for a Mul of two values computed from the input/);
  });

  it('names a GraphModel FusedBatchNorm that follows no convolution, and a first-layer rule the input reaches through a Relu', async () => {
    const batchNorm = (graph: GraphDefBuilder, input: string) => {
      const parameter = (name: string, value: number) => graph.constant(`bn/${name}`, [2], [value, value]);
      const parameters = [parameter('gamma', 2), parameter('beta', 0.5), parameter('mean', 0.1), parameter('variance', 4)];
      return graph.op('bn', 'FusedBatchNormV3', [graph.op('relu', 'Relu', [input]), ...parameters], { epsilon: attrs.float(1e-3) });
    };
    const error = await refusal(graphNet(batchNorm), 'lrp_epsilon_0_1');
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toMatch(
      /^node "bn" \(FusedBatchNormV3\): LRP folds a FusedBatchNorm into the convolution before it, but its input "relu"/,
    );
    const first = await refusal(
      graphNet((graph, input) => graph.op('relu', 'Relu', [input])),
      'w2lrp_epsilon_0_1',
    );
    expect(first.message).toMatch(/^node "relu" \(Relu\): it reads the model input before any Conv2D/);
    // A rule giving x ⊙ c takes it.
    const model = graphNet((graph, input) => graph.op('relu', 'Relu', [input]));
    try {
      expect((await explain(createTfjsBackend(model), 'lrp_epsilon_0_1', x, { target: 0 })).data.every(Number.isFinite)).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it('does not run on a GraphModel attributed at a node', async () => {
    const model = graphNet((graph, input) => graph.op('relu', 'Relu', [input]));
    try {
      const backend = createTfjsBackend(model, { layer: 'relu' });
      expect(backend.backwardRuleSets).not.toContain('lrp');
      const error = await backend.gradients(x, Int32Array.from([0, 0]), { backward: 'lrp_zplus' }).catch((e: unknown) => e);
      expect((error as AttributionError).code).toBe('UNSUPPORTED_METHOD');
      expect((error as AttributionError).message).toMatch(/runs on a one-input LayersModel or GraphModel without layer or feeds/);
    } finally {
      model.dispose();
    }
  });

  it('runs on LayersModels and GraphModels only: a function does not list the family, and asked directly refuses', async () => {
    const f = (input: tf.Tensor) => tf.reshape(input, [input.shape[0]!, -1]);
    const backend = createTfjsBackend(f);
    expect(backend.backwardRuleSets).not.toContain('lrp');
    expect((await refusal(f, 'lrp_epsilon_0_1')).code).toBe('UNSUPPORTED_METHOD');
    const direct = await backend.gradients(x, Int32Array.from([0, 0]), { backward: 'lrp_zplus' }).catch((e: unknown) => e);
    expect(direct).toBeInstanceOf(AttributionError);
    expect((direct as AttributionError).code).toBe('UNSUPPORTED_METHOD');
    expect((direct as AttributionError).message).toMatch(/LRP \(lrp_zplus\) runs on a one-input LayersModel/);
  });
});
