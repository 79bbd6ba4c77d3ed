import { spawnSync } from 'node:child_process';
import { fromBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { buildGradientModel } from '../src/autodiff/build-gradient-model.js';
import type { ExecutionProvider } from '../src/execution-provider/execution-provider.js';
import type { AttributeValue } from '../src/model/attribute-value.js';
import { ModelProtoSchema } from '../src/proto/onnx_pb.js';
import { checkGradient, expectClose, uniformValues } from './helpers/check-gradient.js';
import { node, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';
import { runGraphGradient } from './helpers/run-gradient.js';

/*
 * MaxPool's gradient with overlapping windows (stride < kernel), in every
 * construction the rule has: ScatterElements at the forward's Indices (opset
 * 16+ on the CPU), the first tap decoded from Indices (opsets 8–15), and
 * comparisons (opset 7, and the graphs built for WebGPU and WebGL, run here on
 * onnxruntime-node since they are standard ops), against PyTorch autograd in
 * float64 (Debian's python3-torch; its max_pool2d sends each window's
 * cotangent to the window's first maximum in row-major order, docs/methods.md's
 * tie rule), ties included.
 */

const ints = (values: readonly number[]): AttributeValue => ({ ints: [...values] });

interface PoolCase {
  readonly name: string;
  readonly shape: readonly [number, number, number, number];
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  /** Symmetric padding per axis (PyTorch's form). */
  readonly pads: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly ceil: boolean;
  /** Inputs rounded down to this many levels (many tied maxima), or continuous. */
  readonly levels?: number;
}

const base = { pads: [0, 0], dilations: [1, 1], ceil: false } as const;
const CASES: readonly PoolCase[] = [
  { name: '2×2 stride 2', shape: [1, 3, 8, 8], kernel: [2, 2], strides: [2, 2], ...base },
  { name: '3×3 stride 1 pad 1', shape: [2, 2, 7, 9], kernel: [3, 3], strides: [1, 1], ...base, pads: [1, 1] },
  { name: '3×3 stride 2 pad 1', shape: [1, 3, 9, 8], kernel: [3, 3], strides: [2, 2], ...base, pads: [1, 1] },
  {
    name: '5×5 stride 1 dilation 2 pad 2',
    shape: [1, 2, 13, 12],
    kernel: [5, 5],
    strides: [1, 1],
    ...base,
    pads: [2, 2],
    dilations: [2, 2],
  },
  { name: '3×3 stride 2 pad 1 ceil_mode', shape: [1, 2, 8, 9], kernel: [3, 3], strides: [2, 2], ...base, pads: [1, 1], ceil: true },
  { name: '7×7 stride 1 pad 3', shape: [1, 2, 10, 11], kernel: [7, 7], strides: [1, 1], ...base, pads: [3, 3] },
  { name: '4×6 stride (3, 2)', shape: [1, 2, 11, 12], kernel: [4, 6], strides: [3, 2], ...base, pads: [1, 2] },
  { name: 'ties: 3×3 stride 1 pad 1, two levels', shape: [1, 3, 7, 7], kernel: [3, 3], strides: [1, 1], ...base, pads: [1, 1], levels: 2 },
  {
    name: 'ties: 7×7 stride 2 pad 3, three levels',
    shape: [1, 2, 11, 10],
    kernel: [7, 7],
    strides: [2, 2],
    ...base,
    pads: [3, 3],
    levels: 3,
  },
  { name: 'ties: all zeros, 5×5 stride 1 pad 2', shape: [1, 1, 6, 7], kernel: [5, 5], strides: [1, 1], ...base, pads: [2, 2], levels: 1 },
  {
    name: 'ties: 3×3 stride 1 dilation 2 ceil_mode, two levels',
    shape: [1, 2, 9, 8],
    kernel: [3, 3],
    strides: [2, 1],
    ...base,
    dilations: [2, 2],
    ceil: true,
    levels: 2,
  },
];

interface TorchResult {
  readonly cotangent: number[];
  readonly gradient: number[];
}

/**
 * For each case: a cotangent of the pooled shape and x̄ = ∂(Σ ȳ ⊙ max_pool2d(x))/∂x,
 * from PyTorch autograd in float64 (the cotangent is made in Python too, from the output's size).
 */
function torchGradients(inputs: ReadonlyArray<{ readonly c: PoolCase; readonly x: readonly number[] }>): TorchResult[] {
  const code = [
    'import json, sys, torch',
    'out = []',
    'for case in json.load(sys.stdin):',
    "    x = torch.tensor(case['x'], dtype=torch.float64).reshape(case['shape']).requires_grad_()",
    "    y = torch.nn.functional.max_pool2d(x, case['kernel'], case['strides'], case['pads'], case['dilations'], case['ceil'])",
    '    cotangent = 0.5 + torch.remainder(torch.arange(y.numel(), dtype=torch.float64) * 0.6180339887, 1.0)',
    '    y.backward(cotangent.reshape(y.shape))',
    "    out.append({'cotangent': cotangent.tolist(), 'gradient': x.grad.flatten().tolist()})",
    'print(json.dumps(out))',
  ].join('\n');
  const input = JSON.stringify(inputs.map(({ c, x }) => ({ ...c, x })));
  const result = spawnSync('/usr/bin/python3', ['-c', code], { input, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`PyTorch reference failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as TorchResult[];
}

function inputOf(c: PoolCase, seed: number): number[] {
  const count = c.shape.reduce((a, b) => a * b, 1);
  const values = uniformValues(count, seed, -1, 1);
  // Float32 values, so that ONNX Runtime (float32) and PyTorch (float64) compare the same numbers.
  const rounded = c.levels === undefined ? Float32Array.from(values) : values.map((v) => Math.floor(((v + 1) / 2) * c.levels!));
  return Array.from(rounded);
}

function attributesOf(c: PoolCase): Record<string, AttributeValue> {
  return {
    kernel_shape: ints(c.kernel),
    strides: ints(c.strides),
    pads: ints([...c.pads, ...c.pads]),
    ...(c.dilations.some((d) => d !== 1) ? { dilations: ints(c.dilations) } : {}),
    ...(c.ceil ? { ceil_mode: { int: 1 } } : {}),
  };
}

/** Each construction of the rule: the opset and the execution provider the graph is built for. */
const CONSTRUCTIONS: ReadonlyArray<{ readonly label: string; readonly opset: number; readonly executionProvider?: ExecutionProvider }> = [
  { label: 'Indices and ScatterElements (opset 17)', opset: 17 },
  { label: 'first tap from Indices (opset 15)', opset: 15 },
  { label: 'first tap from Indices (opset 11)', opset: 11 },
  { label: 'comparisons (opset 7)', opset: 7 },
  { label: 'comparisons, ArgMax (built for WebGPU, opset 17)', opset: 17, executionProvider: 'webgpu' },
  { label: 'comparisons, MatMul count (built for WebGL, opset 13)', opset: 13, executionProvider: 'webgl' },
];

/** Whether the construction's opset and provider have the case's attributes (dilations and ceil_mode from opset 10; not on WebGL). */
function applies(c: PoolCase, construction: (typeof CONSTRUCTIONS)[number]): boolean {
  const plain = c.dilations.every((d) => d === 1) && !c.ceil;
  return plain || (construction.opset >= 10 && construction.executionProvider !== 'webgl');
}

describe('MaxPool with overlapping windows against PyTorch autograd (float64)', () => {
  const inputs = CASES.map((c, i) => ({ c, x: inputOf(c, 11 + i) }));
  const references = torchGradients(inputs);

  describe.each(CONSTRUCTIONS)('$label', (construction) => {
    it.each(inputs.map((input, i) => ({ ...input, name: input.c.name, reference: references[i]! })))(
      '$name',
      async ({ c, x, reference }) => {
        if (!applies(c, construction)) return;
        const actual = await runGraphGradient(
          {
            nodes: [{ opType: 'MaxPool', inputs: ['x'], outputs: ['y'], attributes: attributesOf(c) }],
            x: { shape: c.shape, values: x },
            output: 'y',
            outputSize: reference.cotangent.length,
            opset: construction.opset,
            ...(construction.executionProvider === undefined ? {} : { executionProvider: construction.executionProvider }),
          },
          reference.cotangent,
        );
        expectClose(actual, reference.gradient, 1e-6, `${c.name}, ${construction.label}`);
      },
    );
  });
});

describe('MaxPool with overlapping windows against central differences', () => {
  it.each([
    { opset: 15, kernel: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2], dilations: [2, 2] },
    { opset: 15, kernel: [7, 7], strides: [1, 1], pads: [3, 3, 3, 3], dilations: [1, 1] },
    { opset: 7, kernel: [4, 3], strides: [1, 2], pads: [1, 1, 2, 0], dilations: [1, 1] },
  ])('opset $opset, kernel $kernel, strides $strides, pads $pads, dilations $dilations', ({ opset, kernel, strides, pads, dilations }) =>
    checkGradient({
      opType: 'MaxPool',
      opset,
      attributes: {
        kernel_shape: ints(kernel),
        strides: ints(strides),
        pads: ints(pads),
        ...(dilations.some((d) => d !== 1) ? { dilations: ints(dilations) } : {}),
      },
      inputs: [{ shape: [1, 2, 11, 10] }],
    }),
  );
});

describe('MaxPool below opset 16 and without Indices: a graph whose size does not grow with overlapping windows', () => {
  /** The gradient graph of one MaxPool k×k stride 1 pad ⌊k/2⌋ over x [1, 2, 32, 32]: its node count and largest constant. */
  function built(k: number, opset: number, executionProvider: ExecutionProvider): { nodes: number; largestConstant: number } {
    const pad = Math.floor(k / 2);
    const model = onnxModel({
      opset,
      nodes: [
        node('MaxPool', ['x'], ['y'], { kernel_shape: ints([k, k]), strides: ints([1, 1]), pads: ints([pad, pad, pad, pad]) }),
        node('Flatten', ['y'], ['logits']),
      ],
      inputs: [valueInfo('x', [1, 2, 32, 32])],
      outputs: [valueInfo('logits', [1, 0])],
    });
    const request = { inputName: 'x', inputShape: [1, 2, 32, 32], outputName: 'logits', keepSoftmax: true, result: 'gradient' } as const;
    const graph = fromBinary(ModelProtoSchema, buildGradientModel(model, { ...request, executionProvider }).bytes).graph!;
    const elements = graph.initializer.map((t) => t.dims.reduce((a, b) => a * Number(b), 1));
    return { nodes: graph.node.length, largestConstant: Math.max(0, ...elements) };
  }

  it.each([
    [15, 'cpu'],
    [7, 'cpu'],
    [17, 'webgpu'],
  ] as const)('opset %i, built for %s: the same nodes for 3×3 and 15×15 windows, constants of o·k elements', (opset, provider) => {
    const [small, large] = [built(3, opset, provider), built(15, opset, provider)];
    expect(large.nodes).toBe(small.nodes);
    expect(large.largestConstant).toBeLessThanOrEqual(32 * 15);
  });

  it('built for WebGL (no ArgMax): the same nodes, and a taps × taps constant', () => {
    const [small, large] = [built(3, 13, 'webgl'), built(15, 13, 'webgl')];
    expect(large.nodes).toBe(small.nodes);
    expect(large.largestConstant).toBe(15 ** 4);
  });
});
