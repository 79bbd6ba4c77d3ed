import { fromBinary } from '@bufbuild/protobuf';
import { AttributionError, hostTensor } from '@saliency/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { AttributeValue } from '../src/model/attribute-value.js';
import { buildGradientModel, type GradientModelRequest } from '../src/autodiff/build-gradient-model.js';
import { executionProviderOf, type ExecutionProvider } from '../src/execution-provider/execution-provider.js';
import { checkRunsOnWebgl } from '../src/execution-provider/webgl-ops.js';
import { readTensorProto } from '../src/model/const-tensor.js';
import { DataType } from '../src/model/data-type.js';
import { ModelProtoSchema, type ModelProto } from '../src/proto/onnx_pb.js';
import { createOnnxBackend, type OnnxBackendOptions, type OnnxRuntimeModule } from '../src/index.js';
import { checkGradient, uniformValues, type Operand } from './helpers/check-gradient.js';
import { countingOrt } from './helpers/counting-ort.js';
import { mlpFixture } from './helpers/mlp-model.js';
import { runGradient } from './helpers/run-gradient.js';
import { node, onnxBytes, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';

/*
 * The graphs built for the WebGPU and WebGL execution providers: the op forms
 * each lacks are absent, the constructions used instead are exact (the same
 * float64 central-difference references as every rule, run on
 * onnxruntime-node, since they are standard ops), and WebGL refuses a graph
 * with an op it cannot run before any session, naming the op and node.
 */

const ints = (values: number[]): AttributeValue => ({ ints: values });
const weight = (shape: number[], seed: number): Operand => ({
  shape,
  values: uniformValues(
    shape.reduce((n, d) => n * d, 1),
    seed,
  ),
  constant: true,
});
const GPU_PROVIDERS: readonly ExecutionProvider[] = ['webgpu', 'webgl'];

describe('executionProviderOf', () => {
  it.each([
    [undefined, 'cpu'],
    [[], 'cpu'],
    [['wasm'], 'cpu'],
    [['cpu'], 'cpu'],
    [['webgpu', 'wasm'], 'webgpu'],
    [[{ name: 'webgpu' }], 'webgpu'],
    [['webgl'], 'webgl'],
    [['wasm', 'webgl'], 'cpu'],
  ] as const)('%j → %s', (providers, provider) => expect(executionProviderOf(providers)).toBe(provider));
});

describe('the executionProvider option of createOnnxBackend', () => {
  const { bytes, reference } = mlpFixture();
  const options = (value: object) => value as OnnxBackendOptions;

  it('builds for the provider it names, over the one sessionOptions implies', async () => {
    // Built for WebGL, the gradient's Gemms get a zero C and ReLU's mask is read from its input; onnxruntime-node runs that graph too.
    const backend = createOnnxBackend(ort as unknown as OnnxRuntimeModule, bytes, {
      executionProvider: 'webgl',
      sessionOptions: { executionProviders: ['cpu'] },
    });
    const x = Float64Array.from({ length: 6 }, (_, i) => Math.sin(i + 1));
    const gradients = await backend.gradients(hostTensor(Float32Array.from(x), [1, 6]), new Int32Array([2]));
    reference.gradient(x, 2).forEach((v, i) => expect(gradients.data[i]).toBeCloseTo(v, 5));
    await backend.dispose();
  });

  it.each([
    [{ target: 'webgl' }, /option target was renamed executionProvider \(one of cpu, webgpu, webgl\)/],
    [{ executionProvider: 'wasm' }, /option executionProvider must be one of cpu, webgpu, webgl, got "wasm"/],
  ])('refuses %j with INVALID_OPTION', (value, message) => {
    expect(() => createOnnxBackend(ort as unknown as OnnxRuntimeModule, bytes, options(value))).toThrow(message);
    expect(() => createOnnxBackend(ort as unknown as OnnxRuntimeModule, bytes, options(value))).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });
});

describe.each(GPU_PROVIDERS)('gradients built for %s are exact', (provider) => {
  it.each([
    {
      name: '3×3 stride 2 pad 1, opset 17',
      opset: 17,
      x: [2, 2, 7, 6],
      attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
    },
    { name: '2×2 stride 2, opset 22', opset: 22, x: [1, 3, 6, 4], attributes: { kernel_shape: ints([2, 2]), strides: ints([2, 2]) } },
    // ceil_mode and dilations: WebGPU only; the WebGL EP's pools have neither (refused below).
    ...(provider === 'webgpu'
      ? [
          {
            name: 'ceil_mode, dilations, opset 17',
            opset: 17,
            x: [1, 2, 7, 8],
            attributes: { kernel_shape: ints([2, 3]), strides: ints([2, 2]), dilations: ints([2, 1]), ceil_mode: { int: 1 } },
          },
        ]
      : []),
    {
      name: 'SAME_UPPER, opset 17',
      opset: 17,
      x: [1, 2, 5, 6],
      attributes: { kernel_shape: ints([3, 2]), strides: ints([2, 2]), auto_pad: { string: 'SAME_UPPER' } },
    },
    // 1-D: WebGPU only; WebGL has 2-D ConvTranspose only (refused below).
    ...(provider === 'webgpu'
      ? [
          {
            name: '1-D, opset 17',
            opset: 17,
            x: [2, 2, 9],
            attributes: { kernel_shape: ints([3]), strides: ints([2]), pads: ints([1, 1]) },
          },
        ]
      : []),
  ])('MaxPool $name', ({ opset, x, attributes }) =>
    checkGradient({ opType: 'MaxPool', opset, attributes, executionProvider: provider, inputs: [{ shape: x }] }),
  );

  // Masks of two conditions: the product of the two masks on webgpu (no And there); WebGL lacks these ops.
  if (provider === 'webgpu') {
    it('Clip with both bounds', () =>
      checkGradient({
        opType: 'Clip',
        opset: 13,
        executionProvider: provider,
        inputs: [{ shape: [2, 3, 4] }, { shape: [], values: [-0.4], constant: true }, { shape: [], values: [0.5], constant: true }],
      }));
    it('HardSigmoid', () =>
      checkGradient({
        opType: 'HardSigmoid',
        opset: 13,
        executionProvider: provider,
        attributes: { alpha: { float: 0.6 } },
        inputs: [{ shape: [3, 5] }],
      }));
    it('HardSwish', () =>
      checkGradient({
        opType: 'HardSwish',
        opset: 14,
        executionProvider: provider,
        inputs: [{ shape: [3, 5], values: uniformValues(15, 5, -4, 4) }],
      }));
    it('Max of three operands', () =>
      checkGradient({
        opType: 'Max',
        opset: 13,
        executionProvider: provider,
        inputs: [
          { shape: [2, 3], values: [0.9, -0.5, 0.1, -0.9, 0.8, 0.2] },
          { shape: [3], values: [0.3, 0.6, -0.2] },
          { shape: [2, 1], values: [0.5, -0.1] },
        ],
      }));
  }

  it('MaxPool over all-negative windows that reach into the padding (padding never wins)', () =>
    checkGradient({
      opType: 'MaxPool',
      opset: 17,
      executionProvider: provider,
      attributes: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
      inputs: [{ shape: [1, 1, 5, 5], values: uniformValues(25, 9, -2, -1) }],
    }));
});

describe('gradients built for webgl are exact', () => {
  const provider = 'webgl';
  it.each([
    [[2, 3, 4], 1, 13],
    [[2, 3, 4], -1, 13],
    [[2, 3, 4], 0, 18],
    [[6], 0, 13],
  ])('Softmax of %j at axis %i, opset %i (ReduceSum as a MatMul)', (shape, axis, opset) =>
    checkGradient({ opType: 'Softmax', opset, executionProvider: provider, attributes: { axis: { int: axis } }, inputs: [{ shape }] }),
  );
  it('Tile (ReduceSum over interleaved axes)', () =>
    checkGradient({
      opType: 'Tile',
      opset: 13,
      executionProvider: provider,
      inputs: [{ shape: [2, 1, 3] }, { shape: [3], values: [2, 3, 2], dataType: DataType.INT64, constant: true }],
    }));
  it('InstanceNormalization at opset 18 (ReduceMean as a MatMul)', () =>
    checkGradient({
      opType: 'InstanceNormalization',
      opset: 18,
      executionProvider: provider,
      inputs: [{ shape: [2, 3, 4] }, weight([3], 2), weight([3], 3)],
    }));
  it('Conv with stride 2 and a bias (a copy of W, the bias gradient as a MatMul)', () =>
    checkGradient({
      opType: 'Conv',
      opset: 17,
      executionProvider: provider,
      attributes: { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
      inputs: [{ shape: [2, 3, 9, 9] }, weight([4, 3, 3, 3], 4), { shape: [4] }],
    }));
  it.each([12, 13, 18])('Concat of three inputs at opset %i (Split from opset 13 as Slices)', (opset) =>
    checkGradient({
      opType: 'Concat',
      opset,
      executionProvider: provider,
      attributes: { axis: { int: 1 } },
      inputs: [{ shape: [2, 2, 3] }, { shape: [2, 1, 3] }, { shape: [2, 3, 3] }],
    }),
  );
  // The first extremum's one-hot without ArgMax/ArgMin: with ties, the same values as the cpu graph's ArgMax
  // (whose first-maximum routing pooling.test.ts and reduction.test.ts check against explicit expectations).
  it.each([
    {
      opType: 'GlobalMaxPool',
      opset: 17,
      attributes: {},
      inputs: [{ shape: [2, 2, 3, 3], values: [...uniformValues(18, 6), 5, 1, 5, 0, 5, 2, 1, 0, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4] }],
    },
    {
      opType: 'ReduceMax',
      opset: 13,
      attributes: { axes: ints([0, 2]), keepdims: { int: 0 } },
      inputs: [{ shape: [2, 3, 2], values: [1, 2, 3, 3, 0, 1, 3, 1, 2, 3, 3, 0] }],
    },
    {
      opType: 'ReduceMin',
      opset: 13,
      attributes: { axes: ints([0, 2]), keepdims: { int: 0 } },
      inputs: [{ shape: [2, 3, 2], values: [1, 2, 3, 3, 0, 1, 3, 1, 0, 3, 3, 0] }],
    },
  ])('$opType with tied extrema (no ArgMax/ArgMin)', async (c) => {
    const cpu = await runGradient({ ...c }, 0);
    const ours = await runGradient({ ...c, executionProvider: provider }, 0);
    expect(cpu.some((v) => v !== 0)).toBe(true);
    expect(Array.from(ours)).toEqual(Array.from(cpu));
  });
  it('Abs (no Sign)', () => checkGradient({ opType: 'Abs', opset: 13, executionProvider: provider, inputs: [{ shape: [3, 4] }] }));
  it('Gemm (with a zero C in its gradient)', () =>
    checkGradient({
      opType: 'Gemm',
      opset: 17,
      executionProvider: provider,
      attributes: { transB: { int: 1 } },
      inputs: [{ shape: [3, 4] }, { shape: [5, 4] }],
    }));
});

/** A model with the forms some providers lack in its gradient: MaxPool, a Conv bias, Softmax (ReduceSum), Gemm (C omitted). */
function poolingModel(opset: number): ModelProto {
  return onnxModel({
    opset,
    nodes: [
      node('Conv', ['x', 'w', 'b'], ['c'], { pads: ints([1, 1, 1, 1]) }),
      node('MaxPool', ['c'], ['p'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }),
      node('Flatten', ['p'], ['f']),
      node('Softmax', ['f'], ['s'], { axis: { int: 1 } }),
      node('Gemm', ['s', 'g'], ['logits']),
    ],
    initializers: {
      w: { dims: [2, 3, 3, 3], values: uniformValues(54, 1) },
      b: { dims: [2], values: [0.1, -0.2] },
      g: { dims: [32, 4], values: uniformValues(128, 2) },
    },
    inputs: [valueInfo('x', [2, 3, 8, 8])],
    outputs: [valueInfo('logits', [2, 4])],
  });
}

const request = (provider: ExecutionProvider, result: GradientModelRequest['result'] = 'gradient'): GradientModelRequest => ({
  inputName: 'x',
  inputShape: [2, 3, 8, 8],
  outputName: 'logits',
  keepSoftmax: true,
  result,
  executionProvider: provider,
  ...(result === 'moments' ? { groupSize: 2 } : {}),
});

describe('what a provider lacks is not emitted', () => {
  it.each([
    ['webgpu', 17],
    ['webgl', 17],
    ['webgl', 22],
  ] as const)('%s at opset %i: no MaxPool Indices, ScatterElements or Expand', (provider, opset) => {
    for (const result of ['gradient', 'moments'] as const) {
      const graph = fromBinary(ModelProtoSchema, buildGradientModel(poolingModel(opset), request(provider, result)).bytes).graph!;
      const types = graph.node.map((n) => n.opType);
      expect(types).not.toContain('ScatterElements');
      expect(types).not.toContain('Expand');
      const pools = graph.node.filter((n) => n.opType === 'MaxPool');
      expect(pools).toHaveLength(1);
      expect(pools[0]!.output.filter((name) => name !== '')).toHaveLength(1);
      if (provider !== 'webgl') continue;
      const initializers = new Map(graph.initializer.map((t) => [t.name, readTensorProto(t, 'test')]));
      for (const n of graph.node) {
        if (n.opType.startsWith('Reduce'))
          expect(
            n.input.filter((name) => name !== ''),
            `${n.opType} axes input`,
          ).toHaveLength(1);
        if (n.opType === 'Gemm') expect(n.input[2] ?? '', 'Gemm C').not.toBe('');
        if (n.opType === 'Slice' && (n.input[4] ?? '') !== '')
          expect([...initializers.get(n.input[4]!)!.values].every((s) => s === 1)).toBe(true);
      }
    }
  });

  it.each(['cpu', 'webgpu', 'webgl'] as const)(
    '%s: cotangents summed with Add (no Sum: the WebGPU EPs run it on the CPU); And only where the provider has it',
    (provider) => {
      const residual = onnxModel({
        opset: 13,
        nodes: [
          node('Conv', ['x', 'w'], ['c'], { pads: ints([1, 1, 1, 1]) }),
          node('Clip', ['c', 'lo', 'hi'], ['r']),
          node('Add', ['r', 'c'], ['s']),
          node('Flatten', ['s'], ['f']),
          node('Gemm', ['f', 'g'], ['logits']),
        ],
        initializers: {
          w: { dims: [3, 3, 3, 3], values: uniformValues(81, 1) },
          lo: { dims: [], values: [0] },
          hi: { dims: [], values: [0.5] },
          g: { dims: [192, 4], values: uniformValues(768, 2) },
        },
        inputs: [valueInfo('x', [2, 3, 8, 8])],
        outputs: [valueInfo('logits', [2, 4])],
      });
      const types = fromBinary(ModelProtoSchema, buildGradientModel(residual, request(provider)).bytes).graph!.node.map((n) => n.opType);
      expect(types).not.toContain('Sum');
      if (provider === 'webgpu') expect(types).not.toContain('And');
      else expect(types).toContain('And');
    },
  );

  it.each([
    ['cpu', 'r'],
    ['webgpu', 'r'],
    ['webgl', 'c'],
  ] as const)('%s: the ReLU mask is read from %s (the output, so Conv + ReLU stay fused; the input on WebGL)', (provider, masked) => {
    const model = onnxModel({
      opset: 13,
      nodes: [
        node('Conv', ['x', 'w'], ['c'], { pads: ints([1, 1, 1, 1]) }),
        node('Relu', ['c'], ['r']),
        node('Flatten', ['r'], ['f']),
        node('Gemm', ['f', 'g', 'b'], ['logits']),
      ],
      initializers: {
        w: { dims: [3, 3, 3, 3], values: uniformValues(81, 1) },
        g: { dims: [192, 4], values: uniformValues(768, 2) },
        b: { dims: [4], values: [0, 0, 0, 0] },
      },
      inputs: [valueInfo('x', [2, 3, 8, 8])],
      outputs: [valueInfo('logits', [2, 4])],
    });
    const comparisons = fromBinary(ModelProtoSchema, buildGradientModel(model, request(provider)).bytes).graph!.node.filter(
      (n) => n.opType === 'Greater',
    );
    expect(comparisons.map((n) => n.input[0])).toEqual([masked]);
  });

  it('the cpu provider keeps the scatter at opset 17 (the reference the others are compared with)', () => {
    const types = fromBinary(ModelProtoSchema, buildGradientModel(poolingModel(17), request('cpu')).bytes).graph!.node.map((n) => n.opType);
    expect(types).toContain('ScatterElements');
  });

  it.each(['webgpu', 'webgl'] as const)('the %s graph computes what the cpu graph computes, on onnxruntime-node', async (provider) => {
    const run = async (t: ExecutionProvider) => {
      const session = await ort.InferenceSession.create(buildGradientModel(poolingModel(17), request(t)).bytes);
      try {
        const result = await session.run({
          x: new ort.Tensor('float32', Float32Array.from(uniformValues(384, 3)), [2, 3, 8, 8]),
          'saliency/logits_cotangent': new ort.Tensor('float32', Float32Array.from([1, 0, 0, 0, 0, 0, 1, 0]), [2, 4]),
        });
        return result['saliency/input_gradient']!.data as Float32Array;
      } finally {
        await session.release();
      }
    };
    const [reference, ours] = [await run('cpu'), await run(provider)];
    const scale = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(scale).toBeGreaterThan(0);
    reference.forEach((v, i) => expect(Math.abs(ours[i]! - v)).toBeLessThanOrEqual(1e-6 * scale));
  });
});

describe('webgl refuses what its EP cannot run, naming the op and node', () => {
  const conv1d = {
    nodes: [node('Conv', ['x', 'w'], ['c'], { pads: ints([1, 1]) }, 'conv1d'), node('Flatten', ['c'], ['logits'])],
    initializers: { w: { dims: [2, 2, 3], values: uniformValues(12, 4) } },
    inputs: [valueInfo('x', [1, 2, 5])],
    outputs: [valueInfo('logits', [1, 10])],
  };

  it('a 1-D Conv of the model, even in the forward model', () => {
    for (const result of ['none', 'gradient'] as const) {
      const build = () =>
        buildGradientModel(onnxModel(conv1d), {
          inputName: 'x',
          inputShape: [1, 2, 5],
          outputName: 'logits',
          keepSoftmax: true,
          result,
          executionProvider: 'webgl',
        });
      expect(build).toThrow(AttributionError);
      expect(build).toThrow(
        /WebGL EP cannot run .*op 'Conv' of Conv node "conv1d" over 1 spatial axes is not supported.*only support 2-dimensional conv/,
      );
    }
  });

  it('a 1-D MaxPool gradient (its ConvTranspose is 1-D)', () =>
    expect(
      checkGradient({
        opType: 'MaxPool',
        opset: 17,
        executionProvider: 'webgl',
        attributes: { kernel_shape: ints([3]), strides: ints([2]) },
        inputs: [{ shape: [1, 2, 9] }],
      }),
    ).rejects.toThrow(/op 'ConvTranspose' of ConvTranspose node "saliency\/ConvTranspose_\d+" over 1 spatial axes is not supported/));

  /** A model of one pool with these attributes at opset 17, its node named "pool". */
  const pool = (opType: string, attributes: Record<string, AttributeValue>) => ({
    opset: 17,
    nodes: [
      node(opType, ['x'], ['p'], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), ...attributes }, 'pool'),
      node('Flatten', ['p'], ['logits']),
    ],
    initializers: {},
    inputs: [valueInfo('x', [1, 2, 8, 8])],
    outputs: [valueInfo('logits', [1, 2 * (attributes['ceil_mode'] !== undefined ? 16 : attributes['dilations'] !== undefined ? 4 : 9)])],
  });

  it.each([
    [
      'MaxPool',
      { ceil_mode: { int: 1 } },
      /op 'MaxPool' of MaxPool node "pool" with attribute ceil_mode = 1 is not supported \("using ceil\(\) in shape computation/,
    ],
    ['AveragePool', { ceil_mode: { int: 1 } }, /op 'AveragePool' of AveragePool node "pool" with attribute ceil_mode = 1 is not supported/],
    [
      'MaxPool',
      { dilations: ints([2, 2]) },
      /op 'MaxPool' of MaxPool node "pool" with attribute dilations = \[2,2\] is not supported: the EP's pooling shader ignores dilations/,
    ],
  ] as const)('%s %j, in the forward model too, saying the forward cannot run', (opType, attributes, message) => {
    for (const result of ['none', 'gradient'] as const) {
      const build = () =>
        buildGradientModel(onnxModel(pool(opType, attributes)), {
          inputName: 'x',
          inputShape: [1, 2, 8, 8],
          outputName: 'logits',
          keepSoftmax: true,
          result,
          executionProvider: 'webgl',
        });
      expect(build).toThrow(AttributionError);
      expect(build).toThrow(message);
      expect(build).toThrow(/It is a node of the model itself, so the EP cannot run even its forward pass/);
    }
  });

  it('the backend refuses a ceil_mode MaxPool with a coded error before creating a session', async () => {
    const counting = countingOrt(ort);
    const backend = createOnnxBackend(counting.module, onnxBytes(pool('MaxPool', { ceil_mode: { int: 1 } })), {
      sessionOptions: { executionProviders: ['webgl'] },
    });
    await expect(backend.gradients(hostTensor(new Float32Array(128), [1, 2, 8, 8]), new Int32Array([0]))).rejects.toMatchObject({
      code: 'UNSUPPORTED_MODEL',
      message: expect.stringMatching(/MaxPool node "pool" with attribute ceil_mode = 1/),
    });
    expect(counting.created()).toBe(0);
    await backend.dispose();
  });

  it.each([
    [
      'a Pad in mode wrap (opset 19)',
      19,
      node('Pad', ['x', 'allPads'], ['logits'], { mode: { string: 'wrap' } }, 'pad'),
      /op 'Pad' of Pad node "pad" with attribute mode = "wrap" is not supported/,
    ],
    [
      'a Pad with its axes input (opset 18)',
      18,
      node('Pad', ['x', 'pads', '', 'axes'], ['logits'], {}, 'pad'),
      /op 'Pad' of Pad node "pad" with its axes input/,
    ],
  ] as const)('%s', (_, opset, padNode, message) => {
    const model = onnxModel({
      opset,
      nodes: [padNode],
      initializers: {
        allPads: { dims: [4], values: [0, 0, 0, 1], dataType: DataType.INT64 },
        pads: { dims: [2], values: [0, 1], dataType: DataType.INT64 },
        axes: { dims: [1], values: [1], dataType: DataType.INT64 },
      },
      inputs: [valueInfo('x', [1, 3])],
      outputs: [valueInfo('logits', [1, 4])],
    });
    expect(() =>
      buildGradientModel(model, {
        inputName: 'x',
        inputShape: [1, 3],
        outputName: 'logits',
        keepSoftmax: true,
        result: 'none',
        executionProvider: 'webgl',
      }),
    ).toThrow(message);
  });

  // Resize has no rule yet: the table is checked on its own, as a graph holding one would be.
  it.each([
    [10, { mode: { string: 'cubic' } }, /op 'Resize' of Resize node "resize" with attribute mode = "cubic" is not supported at opset 10/],
    [18, { mode: { string: 'linear' }, antialias: { int: 1 } }, /with attribute antialias = 1 is not supported/],
    [
      13,
      { coordinate_transformation_mode: { string: 'half_pixel_symmetric' } },
      /with attribute coordinate_transformation_mode = "half_pixel_symmetric"/,
    ],
  ] as const)('a Resize at opset %i with %j', (opset, attributes, message) => {
    const graph = onnxModel({
      opset,
      nodes: [node('Resize', ['x', '', 'scales'], ['y'], attributes, 'resize')],
      initializers: { scales: { dims: [4], values: [1, 1, 2, 2] } },
      inputs: [valueInfo('x', [1, 1, 2, 2])],
      outputs: [valueInfo('y', [1, 1, 4, 4])],
    }).graph!;
    expect(() => checkRunsOnWebgl(graph, opset, 'the test graph')).toThrow(message);
  });

  it('a ReduceProd with its axes as an input (opset 18)', () => {
    const model = onnxModel({
      opset: 18,
      nodes: [node('ReduceProd', ['x', 'axes'], ['logits'], { keepdims: { int: 0 } }, 'prod')],
      initializers: { axes: { dims: [1], values: [2], dataType: DataType.INT64 } },
      inputs: [valueInfo('x', [1, 2, 3])],
      outputs: [valueInfo('logits', [1, 2])],
    });
    expect(() =>
      buildGradientModel(model, {
        inputName: 'x',
        inputShape: [1, 2, 3],
        outputName: 'logits',
        keepSoftmax: true,
        result: 'gradient',
        executionProvider: 'webgl',
      }),
    ).toThrow(/op 'ReduceProd' of ReduceProd node "prod" with its axes as an input is not supported/);
  });

  it('the backend refuses before creating a session when its providers start with webgl', async () => {
    const counting = countingOrt(ort);
    const backend = createOnnxBackend(counting.module, onnxBytes(conv1d), { sessionOptions: { executionProviders: ['webgl'] } });
    await expect(backend.gradients(hostTensor(new Float32Array(10), [1, 2, 5]), new Int32Array([0]))).rejects.toMatchObject({
      code: 'UNSUPPORTED_MODEL',
      message: expect.stringMatching(/op 'Conv' of Conv node "conv1d"/),
    });
    expect(counting.created()).toBe(0);
    await backend.dispose();
  });
});
