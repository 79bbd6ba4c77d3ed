import { fromBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import type { AttributeValue } from '../src/model/attribute-value.js';
import { buildGradientModel } from '../src/autodiff/build-gradient-model.js';
import { ModelProtoSchema } from '../src/proto/onnx_pb.js';
import { checkGradient, uniformValues, type Operand } from './helpers/check-gradient.js';
import { node, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';

const ints = (values: number[]): AttributeValue => ({ ints: values });
const weight = (shape: number[]): Operand => ({ shape, constant: true });

interface ConvCase {
  readonly name: string;
  readonly x: number[];
  readonly w: number[];
  readonly bias?: boolean;
  readonly attributes?: Record<string, AttributeValue>;
  readonly opset?: number;
}

const convCases: ConvCase[] = [
  { name: '1-D, pads', x: [1, 2, 7], w: [3, 2, 3], attributes: { pads: ints([1, 1]) } },
  {
    name: '1-D, stride 2, dilation 2, uneven pads',
    x: [2, 2, 9],
    w: [2, 2, 3],
    attributes: { strides: ints([2]), dilations: ints([2]), pads: ints([2, 1]) },
  },
  {
    name: '2-D, stride 2, pads, bias',
    x: [1, 2, 5, 5],
    w: [4, 2, 3, 3],
    bias: true,
    attributes: { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
  },
  { name: '2-D, stride 2 leaving a tail', x: [1, 2, 6, 7], w: [3, 2, 3, 3], attributes: { strides: ints([2, 3]) } },
  {
    name: '2-D, group 2, dilations, strides',
    x: [2, 4, 6, 5],
    w: [4, 2, 3, 2],
    attributes: { group: { int: 2 }, dilations: ints([2, 1]), strides: ints([1, 2]), pads: ints([0, 1, 2, 0]) },
  },
  {
    name: 'depthwise, SAME_UPPER, stride 2',
    x: [1, 3, 6, 6],
    w: [3, 1, 3, 3],
    bias: true,
    attributes: { group: { int: 3 }, strides: ints([2, 2]), auto_pad: { string: 'SAME_UPPER' } },
  },
  {
    name: 'depthwise multiplier 2, SAME_LOWER, even kernel',
    x: [1, 2, 5, 6],
    w: [4, 1, 2, 2],
    attributes: { group: { int: 2 }, strides: ints([2, 2]), auto_pad: { string: 'SAME_LOWER' } },
  },
  { name: 'VALID, stride 3', x: [1, 1, 8, 7], w: [2, 1, 2, 3], attributes: { strides: ints([3, 3]), auto_pad: { string: 'VALID' } } },
  {
    name: 'kernel_shape given, opset 7',
    x: [1, 2, 5, 4],
    w: [2, 2, 3, 3],
    opset: 7,
    attributes: { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) },
  },
  { name: '1×1, opset 11', x: [1, 3, 4, 4], w: [5, 3, 1, 1], bias: true, opset: 11 },
  { name: 'opset 22', x: [1, 2, 5, 5], w: [2, 2, 3, 3], opset: 22, attributes: { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) } },
  {
    name: '3-D, stride 2, pads',
    x: [1, 2, 4, 5, 3],
    w: [2, 2, 2, 3, 2],
    attributes: { strides: ints([2, 2, 1]), pads: ints([1, 0, 1, 0, 1, 0]) },
  },
  // Stride 1 with constant weights: X̄ is a Conv with the flipped, channel-transposed kernel.
  {
    name: 'stride 1: 1-D, dilation 2, uneven pads, bias',
    x: [2, 3, 9],
    w: [2, 3, 3],
    bias: true,
    attributes: { dilations: ints([2]), pads: ints([3, 1]) },
  },
  { name: 'stride 1: 2-D, uneven pads, no pads on one axis', x: [2, 2, 6, 5], w: [3, 2, 3, 2], attributes: { pads: ints([2, 0, 1, 0]) } },
  {
    name: 'stride 1: 2-D, group 2, dilations, explicit strides 1',
    x: [1, 4, 7, 6],
    w: [6, 2, 3, 2],
    attributes: { group: { int: 2 }, dilations: ints([2, 3]), strides: ints([1, 1]), pads: ints([1, 3, 4, 0]) },
  },
  {
    name: 'stride 1: 2-D, group 3, M ≠ C',
    x: [1, 6, 5, 5],
    w: [9, 2, 3, 3],
    bias: true,
    attributes: { group: { int: 3 }, pads: ints([1, 1, 1, 1]) },
  },
  {
    name: 'stride 1: depthwise, SAME_UPPER, even kernel',
    x: [2, 3, 6, 5],
    w: [3, 1, 2, 4],
    bias: true,
    attributes: { group: { int: 3 }, auto_pad: { string: 'SAME_UPPER' } },
  },
  {
    name: 'stride 1: depthwise multiplier 2, SAME_LOWER',
    x: [1, 2, 5, 6],
    w: [4, 1, 3, 2],
    attributes: { group: { int: 2 }, auto_pad: { string: 'SAME_LOWER' } },
  },
  {
    name: 'stride 1: 1-D depthwise, dilation 3, VALID',
    x: [1, 4, 10],
    w: [4, 1, 3],
    attributes: { group: { int: 4 }, dilations: ints([3]), auto_pad: { string: 'VALID' } },
  },
  { name: 'stride 1: 3-D', x: [1, 2, 4, 3, 5], w: [2, 2, 2, 3, 3], attributes: { pads: ints([1, 0, 2, 0, 1, 1]) } },
  // Stride 1 but a pad beyond the kernel's extent would need a negative pad: ConvTranspose.
  { name: 'stride 1: pads beyond the kernel extent fall back', x: [1, 2, 4, 4], w: [3, 2, 2, 1], attributes: { pads: ints([2, 1, 0, 0]) } },
  // Equal strides above 1 on a small 2-D ȳ: s² sub-pixel Convs interleaved by DepthToSpace.
  {
    name: 'sub-pixel: 3×3 stride 2 pad 1, odd size (cropped)',
    x: [2, 3, 7, 7],
    w: [4, 3, 3, 3],
    bias: true,
    attributes: { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
  },
  {
    name: 'sub-pixel: depthwise 5×5 stride 2 pad 2',
    x: [2, 4, 8, 8],
    w: [4, 1, 5, 5],
    attributes: { group: { int: 4 }, strides: ints([2, 2]), pads: ints([2, 2, 2, 2]) },
  },
  {
    name: 'sub-pixel: stride 3, uneven pads, group 2',
    x: [1, 4, 10, 11],
    w: [6, 2, 4, 5],
    attributes: { group: { int: 2 }, strides: ints([3, 3]), pads: ints([1, 0, 2, 2]) },
  },
  {
    name: 'sub-pixel: an end pad giving ȳ a row past X (more blocks, cropped)',
    x: [1, 2, 6, 7],
    w: [3, 2, 3, 3],
    attributes: { strides: ints([2, 2]), pads: ints([1, 1, 2, 1]) },
  },
  { name: 'sub-pixel: 2×2 stride 2, no pads', x: [1, 3, 6, 5], w: [2, 3, 2, 2], attributes: { strides: ints([2, 2]) } },
  // Beyond the sub-pixel form's reach: ConvTranspose.
  {
    name: 'stride 2 with a 9×9 ȳ falls back',
    x: [1, 2, 18, 17],
    w: [2, 2, 3, 3],
    attributes: { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
  },
  {
    name: 'stride 2 at opset 10 falls back',
    x: [1, 2, 6, 6],
    w: [3, 2, 3, 3],
    opset: 10,
    attributes: { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) },
  },
  { name: '1×1 stride 2 falls back', x: [1, 3, 6, 5], w: [4, 3, 1, 1], attributes: { strides: ints([2, 2]) } },
];

describe('Conv', () => {
  it.each(convCases)('$name', ({ x, w, bias, attributes, opset }) =>
    checkGradient({
      opType: 'Conv',
      ...(attributes === undefined ? {} : { attributes }),
      ...(opset === undefined ? {} : { opset }),
      inputs: [{ shape: x }, weight(w), ...(bias ? [weight([w[0]!])] : [])],
    }),
  );

  it('differentiates the bias when it depends on the input', () =>
    checkGradient({
      opType: 'Conv',
      attributes: { strides: ints([2, 2]), pads: ints([1, 0, 1, 0]) },
      inputs: [{ shape: [2, 2, 5, 5], constant: true }, weight([3, 2, 3, 3]), { shape: [3] }],
    }));

  it('refuses the gradient of weights that depend on the input', async () => {
    await expect(
      checkGradient({ opType: 'Conv', inputs: [{ shape: [1, 2, 4, 4], constant: true }, { shape: [2, 2, 3, 3] }] }),
    ).rejects.toThrow(/gradient of convolution weights is not supported/);
  });

  it('refuses SAME padding with dilations (ONNX Runtime does too)', async () => {
    await expect(
      checkGradient({
        opType: 'Conv',
        attributes: { dilations: ints([2, 2]), auto_pad: { string: 'SAME_UPPER' } },
        inputs: [{ shape: [1, 2, 7, 6] }, weight([2, 2, 3, 3])],
      }),
    ).rejects.toThrow(/auto_pad SAME_UPPER with dilations \[2,2\] is not supported/);
  });

  it('refuses an unknown auto_pad', async () => {
    await expect(
      checkGradient({
        opType: 'Conv',
        attributes: { auto_pad: { string: 'SAME' } },
        inputs: [{ shape: [1, 1, 4, 4] }, weight([1, 1, 3, 3])],
      }),
    ).rejects.toThrow(/auto_pad "SAME" is not supported; allowed: NOTSET, VALID, SAME_UPPER, SAME_LOWER/);
  });
});

/** The op types of the gradient model built for one Conv from `x` to `logits` with the given initializers. */
function builtOpTypes(x: number[], w: number[], attributes: Record<string, AttributeValue>, opset?: number): string[] {
  const model = onnxModel({
    ...(opset === undefined ? {} : { opset }),
    nodes: [node('Conv', ['x', 'w'], ['y'], attributes), node('Flatten', ['y'], ['logits'])],
    initializers: {
      w: {
        dims: w,
        values: uniformValues(
          w.reduce((n, d) => n * d, 1),
          5,
        ),
      },
    },
    inputs: [valueInfo('x', x)],
    outputs: [valueInfo('logits', [x[0]!, 0])],
  });
  const built = buildGradientModel(model, { inputName: 'x', inputShape: x, outputName: 'logits', keepSoftmax: true, result: 'gradient' });
  return fromBinary(ModelProtoSchema, built.bytes).graph!.node.map((n) => n.opType);
}

describe('Conv input gradient formulation', () => {
  const count = (types: string[], opType: string) => types.filter((t) => t === opType).length;

  it.each([
    { name: 'a dense stride-1 Conv', w: [4, 3, 3, 3], attributes: { pads: ints([1, 1, 1, 1]) } },
    { name: 'a depthwise stride-1 Conv', w: [3, 1, 3, 3], attributes: { group: { int: 3 }, pads: ints([1, 1, 1, 1]) } },
  ])('differentiates $name with weights known at build time by a Conv, not a ConvTranspose', ({ w, attributes }) => {
    const types = builtOpTypes([2, 3, 6, 6], w, attributes);
    expect(count(types, 'Conv')).toBe(2);
    expect(count(types, 'ConvTranspose')).toBe(0);
  });

  it.each([
    { name: 'stride 2', x: [2, 3, 7, 7], w: [4, 3, 3, 3], attributes: { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }, phases: 4 },
    {
      name: 'depthwise stride 2',
      x: [2, 3, 14, 14],
      w: [3, 1, 5, 5],
      attributes: { group: { int: 3 }, strides: ints([2, 2]), pads: ints([2, 2, 2, 2]) },
      phases: 4,
    },
    {
      name: 'stride 3',
      x: [1, 4, 10, 11],
      w: [6, 2, 4, 5],
      attributes: { group: { int: 2 }, strides: ints([3, 3]), pads: ints([1, 0, 2, 2]) },
      phases: 9,
    },
    { name: 'padded-past-X', x: [1, 2, 6, 7], w: [3, 2, 3, 3], attributes: { strides: ints([2, 2]), pads: ints([1, 1, 2, 1]) }, phases: 4 },
  ])('differentiates a $name Conv with a small ȳ by sub-pixel Convs and DepthToSpace', ({ x, w, attributes, phases }) => {
    const types = builtOpTypes(x, w, attributes);
    expect(count(types, 'Conv')).toBe(1 + phases);
    expect(count(types, 'DepthToSpace')).toBe(1);
    expect(count(types, 'ConvTranspose')).toBe(0);
  });

  it.each([
    { name: 'unequal strides', attributes: { strides: ints([2, 1]), pads: ints([1, 1, 1, 1]) } },
    { name: 'a pad beyond the kernel extent', attributes: { pads: ints([3, 0, 0, 0]) } },
    { name: 'a stride above the kernel', w: [4, 3, 1, 1], attributes: { strides: ints([2, 2]) } },
    { name: 'dilations with stride 2', attributes: { strides: ints([2, 2]), dilations: ints([2, 2]), pads: ints([2, 2, 2, 2]) } },
    { name: 'a ȳ of 8×8 positions', x: [2, 3, 16, 16], attributes: { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) } },
    { name: 'a phase reading ȳ ahead (3×3 stride 3 pad 1)', attributes: { strides: ints([3, 3]), pads: ints([1, 1, 1, 1]) } },
    { name: 'stride 2 at opset 10', attributes: { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }, opset: 10 },
  ])('falls back to ConvTranspose for $name', ({ x = [2, 3, 6, 6], w = [4, 3, 3, 3], attributes, opset }) => {
    const types = builtOpTypes(x, w, attributes, opset);
    expect(count(types, 'Conv')).toBe(1);
    expect(count(types, 'ConvTranspose')).toBe(1);
  });
});

const convTransposeCases: ConvCase[] = [
  { name: '1-D, stride 2', x: [1, 2, 5], w: [2, 3, 3], attributes: { strides: ints([2]) } },
  {
    name: '2-D, stride 2, pads, output_padding, bias',
    x: [1, 3, 4, 4],
    w: [3, 2, 3, 3],
    bias: true,
    attributes: { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), output_padding: ints([1, 1]) },
  },
  {
    name: '2-D, group 2, dilations',
    x: [2, 4, 3, 4],
    w: [4, 1, 2, 3],
    attributes: { group: { int: 2 }, dilations: ints([2, 1]), strides: ints([1, 2]), pads: ints([1, 0, 0, 1]) },
  },
  {
    name: 'output_shape, even total padding',
    x: [1, 2, 3, 3],
    w: [2, 2, 3, 3],
    attributes: { strides: ints([2, 2]), output_shape: ints([5, 5]) },
  },
  {
    name: 'output_shape, odd total padding',
    x: [1, 2, 3, 3],
    w: [2, 2, 3, 3],
    attributes: { strides: ints([2, 2]), output_shape: ints([6, 6]) },
  },
  {
    name: 'VALID, opset 11',
    x: [1, 2, 3, 2],
    w: [2, 1, 2, 2],
    opset: 11,
    attributes: { strides: ints([2, 2]), auto_pad: { string: 'VALID' } },
  },
];

describe('ConvTranspose', () => {
  it.each(convTransposeCases)('$name', ({ x, w, bias, attributes, opset }) =>
    checkGradient({
      opType: 'ConvTranspose',
      ...(attributes === undefined ? {} : { attributes }),
      ...(opset === undefined ? {} : { opset }),
      inputs: [
        { shape: x },
        weight(w),
        ...(bias ? [weight([w[1]! * ((attributes?.group as { int: number } | undefined)?.int ?? 1)])] : []),
      ],
    }),
  );
});
