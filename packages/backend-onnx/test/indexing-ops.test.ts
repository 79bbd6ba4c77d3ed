import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildGradientModel, COTANGENT_INPUT, GRADIENT_OUTPUT } from '../src/autodiff/build-gradient-model.js';
import type { GraphFacts } from '../src/autodiff/graph-facts.js';
import { nodeContext } from '../src/autodiff/node-context.js';
import { constTensor } from '../src/model/const-tensor.js';
import { DataType } from '../src/model/data-type.js';
import { sizeOf } from '@saliency/core';
import type { GradientContext } from '../src/ops/op-definition.js';
import { OPS } from '../src/ops/registry.js';
import { checkGradient, evaluateOp, expectClose, uniformValues, type GradientCase } from './helpers/check-gradient.js';
import { node, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';
import { runForward } from './helpers/run-gradient.js';

const int64 = (values: number[]) => ({ shape: [values.length], values, dataType: DataType.INT64, constant: true });
const indices = (shape: number[], values: number[]) => ({ shape, values, dataType: DataType.INT64, constant: true });

/** ONNX Runtime's forward output against our `evaluate`, for cases without a gradient. */
async function checkForward(c: GradientCase): Promise<void> {
  const [actual] = await runForward(c);
  const values = c.inputs.map((o, i) => {
    if (o === null) return undefined;
    return constTensor(o.dataType ?? DataType.FLOAT, o.shape, o.values ?? uniformValues(sizeOf(o.shape), (c.seed ?? 1) * 31 + i));
  });
  expectClose(actual!, evaluateOp(c, values)[0]!.values, 1e-6, `${c.opType} forward`);
}

/** Gradient of a model x → [nodes] → logits [1, K] at x, for cotangent ȳ, through ONNX Runtime. */
async function modelGradient(
  nodes: ReturnType<typeof node>[],
  x: Float32Array,
  xShape: number[],
  k: number,
  cotangent: Float32Array,
  opset = 17,
) {
  const model = onnxModel({ nodes, inputs: [valueInfo('x', xShape)], outputs: [valueInfo('logits', [1, k])], opset });
  const built = buildGradientModel(model, {
    inputName: 'x',
    inputShape: xShape,
    outputName: 'logits',
    keepSoftmax: true,
    result: 'gradient',
  });
  const session = await ort.InferenceSession.create(built.bytes);
  try {
    const result = await session.run({
      x: new ort.Tensor('float32', x, xShape),
      [COTANGENT_INPUT]: new ort.Tensor('float32', cotangent, [1, k]),
    });
    return result[GRADIENT_OUTPUT]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('Concat', () => {
  it.each([
    [
      [
        [2, 3],
        [4, 3],
      ],
      0,
    ],
    [
      [
        [2, 3],
        [2, 1],
        [2, 2],
      ],
      1,
    ],
    [
      [
        [2, 1, 3],
        [2, 2, 3],
      ],
      -2,
    ],
    [
      [
        [2, 3],
        [2, 2],
      ],
      -1,
    ],
  ])('%j along axis %i', (shapes, axis) =>
    checkGradient({ opType: 'Concat', attributes: { axis: { int: axis } }, inputs: shapes.map((shape) => ({ shape })) }),
  );
  it('splits the cotangent when several inputs need it (x concatenated with itself)', async () => {
    const x = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const cotangent = Float32Array.from(uniformValues(12, 3));
    for (const opset of [11, 13, 18]) {
      const nodes = [node('Concat', ['x', 'x'], ['y'], { axis: { int: 1 } }), node('Reshape', ['y', 'shape'], ['logits'])];
      const shapeNode = node('Constant', [], ['shape'], { value_ints: { ints: [1, 12] } });
      const gradient = await modelGradient([shapeNode, ...nodes], x, [1, 2, 3], 12, cotangent, opset);
      // ȳ is [1, 4, 3] in rows of 3: rows 0–1 belong to the first copy, rows 2–3 to the second.
      const expected = Array.from({ length: 6 }, (_, i) => cotangent[i]! + cotangent[i + 6]!);
      expectClose(gradient, expected, 1e-6, `opset ${opset}`);
    }
  });
});

describe('Split', () => {
  it.each([
    [11, [2, 6], 1, [2, 1, 3], 3],
    [11, [2, 6], 1, undefined, 3],
    [11, [6, 2], 0, [1, 5], 2],
  ])('opset %i: %j along axis %i with split attribute %j into %i', async (opset, shape, axis, split, outputs) => {
    for (let output = 0; output < outputs; output++) {
      await checkGradient({
        opType: 'Split',
        opset,
        attributes: { axis: { int: axis }, ...(split === undefined ? {} : { split: { ints: split } }) },
        inputs: [{ shape }],
        outputs,
        output,
      });
    }
  });
  it.each([13, 18])('opset %i: split as an input, negative axis', async (opset) => {
    for (const output of [0, 1, 2]) {
      await checkGradient({
        opType: 'Split',
        opset,
        attributes: { axis: { int: -1 } },
        inputs: [{ shape: [2, 7] }, int64([3, 1, 3])],
        outputs: 3,
        output,
      });
    }
  });
  it('opset 18: num_outputs with a smaller last chunk', async () => {
    for (const output of [0, 2]) {
      await checkGradient({
        opType: 'Split',
        opset: 18,
        attributes: { axis: { int: 1 }, num_outputs: { int: 3 } },
        inputs: [{ shape: [2, 7] }],
        outputs: 3,
        output,
      });
    }
  });
  it('concatenates the cotangents of every output (Split then swapped Concat)', async () => {
    const x = Float32Array.from(uniformValues(8, 2));
    const cotangent = Float32Array.from(uniformValues(8, 4));
    for (const opset of [11, 13, 18]) {
      const split =
        opset < 13
          ? [node('Split', ['x'], ['a', 'b'], { axis: { int: 1 }, split: { ints: [3, 5] } })]
          : [node('Constant', [], ['s'], { value_ints: { ints: [3, 5] } }), node('Split', ['x', 's'], ['a', 'b'], { axis: { int: 1 } })];
      const gradient = await modelGradient(
        [...split, node('Concat', ['b', 'a'], ['logits'], { axis: { int: 1 } })],
        x,
        [1, 8],
        8,
        cotangent,
        opset,
      );
      expectClose(gradient, [...cotangent.subarray(5), ...cotangent.subarray(0, 5)], 1e-6, `opset ${opset}`);
    }
  });
});

describe('Slice', () => {
  it.each([
    [[4, 5], [1, 0], [3, 5], undefined],
    [[4, 5], [-3], [1000], [1]],
    [
      [3, 4, 5],
      [-1000, 1],
      [-1, -1],
      [0, -1],
    ],
  ])('opset 9 attributes: %j starts %j ends %j axes %j', (shape, starts, ends, axes) =>
    checkGradient({
      opType: 'Slice',
      opset: 9,
      attributes: { starts: { ints: starts }, ends: { ints: ends }, ...(axes === undefined ? {} : { axes: { ints: axes } }) },
      inputs: [{ shape }],
    }),
  );
  it.each([
    [
      [4, 5],
      [1, -4],
      [-1, 1000],
      [0, 1],
      [1, 1],
    ],
    [[6, 5], [-1000], [1000], [-2], null],
    [
      [7, 5],
      [1, 0],
      [7, 5],
      [0, 1],
      [2, 3],
    ],
    [[7, 5], [6], [-1000], [0], [-1]],
    [
      [7, 5],
      [-1, 3],
      [0, -1000],
      [0, 1],
      [-3, -2],
    ],
    [
      [2, 9, 3],
      [8, 0],
      [0, 3],
      [1, 2],
      [-4, 2],
    ],
    [[8], [1], [8], [0], [3]],
  ])('opset 13 inputs: %j starts %j ends %j axes %j steps %j', (shape, starts, ends, axes, steps) =>
    checkGradient({
      opType: 'Slice',
      opset: 13,
      inputs: [{ shape }, int64(starts), int64(ends), int64(axes), steps === null ? null : int64(steps)],
    }),
  );
  it('opset 10 without axes', () =>
    checkGradient({ opType: 'Slice', opset: 10, inputs: [{ shape: [5, 4] }, int64([1, 1]), int64([4, 3])] }));
  it('opset 10 with a step of 2 (zero padding by attribute)', () =>
    checkGradient({ opType: 'Slice', opset: 10, inputs: [{ shape: [5, 4] }, int64([0]), int64([5]), int64([0]), int64([2])] }));
  it('refuses starts that are not known when the model is built', () => {
    const model = onnxModel({
      nodes: [node('Slice', ['x', 'start', 'end'], ['logits'])],
      initializers: { end: { dims: [1], values: [2], dataType: DataType.INT64 } },
      inputs: [valueInfo('x', [1, 4]), valueInfo('start', [1], DataType.INT64)],
      outputs: [valueInfo('logits', [1, 2])],
    });
    expect(() =>
      buildGradientModel(model, { inputName: 'x', inputShape: [1, 4], outputName: 'logits', keepSoftmax: true, result: 'gradient' }),
    ).toThrow();
  });
});

describe('Gather', () => {
  it.each([
    [[5, 3], 0, [2], [3, 0]],
    [[5, 3], 0, [4], [1, 1, -1, 0]],
    [[2, 4, 3], 1, [2, 2], [0, -1, 3, 0]],
    [[2, 4, 3], -1, [3], [2, 2, -3]],
    [[3, 4], 1, [], [-2]],
    [[3, 4], -1, [1], [3]],
  ])('%j along axis %i, indices %j = %j', (shape, axis, indexShape, values) =>
    checkGradient({ opType: 'Gather', attributes: { axis: { int: axis } }, inputs: [{ shape }, indices(indexShape, values)] }),
  );
  it('at opset 11', () =>
    checkGradient({ opType: 'Gather', opset: 11, attributes: { axis: { int: 1 } }, inputs: [{ shape: [2, 3] }, indices([2], [-1, -1])] }));
  it('refuses an index out of range', () =>
    expect(checkGradient({ opType: 'Gather', inputs: [{ shape: [3, 2] }, indices([1], [3])] })).rejects.toThrow(/index 3 is out of range/));
  it('refuses to differentiate with indices computed at run time', () => {
    const gather = node('Gather', ['x', 'i'], ['y'], { axis: { int: 1 } });
    const facts: GraphFacts = {
      types: new Map([
        ['x', { dataType: DataType.FLOAT, shape: [1, 4] }],
        ['i', { dataType: DataType.INT64, shape: [2] }],
        ['y', { dataType: DataType.FLOAT, shape: [1, 2] }],
      ]),
      constants: new Map(),
    };
    const base = nodeContext(gather, facts, 17);
    const g = { ...base, needsGradient: (i: number) => i === 0, dy: () => 'dy' } as unknown as GradientContext;
    const rule = OPS.get('Gather')!.gradient;
    expect(() => (rule === 'none' ? [] : rule(g))).toThrow(/indices \(input 1\) known when the model is built/);
  });
});

describe('Pad', () => {
  it.each([
    [
      [2, 3],
      [1, 0, 2, 1],
    ],
    [
      [2, 3],
      [0, -1, 1, 2],
    ],
    [
      [3, 4],
      [-1, -1, -1, 2],
    ],
  ])('opset 9 attribute: %j pads %j', (shape, pads) =>
    checkGradient({ opType: 'Pad', opset: 9, attributes: { pads: { ints: pads }, value: { float: 0.5 } }, inputs: [{ shape }] }),
  );
  it.each([
    [
      [2, 3],
      [1, 0, 2, 1],
    ],
    [
      [2, 3],
      [0, -1, 1, 2],
    ],
    [
      [2, 3, 4],
      [-1, 1, 0, 0, 2, -2],
    ],
  ])('opset 11 input: %j pads %j', (shape, pads) =>
    checkGradient({ opType: 'Pad', opset: 11, inputs: [{ shape }, int64(pads), { shape: [], values: [0.25], constant: true }] }),
  );
  it('differentiates the constant value: the sum of ȳ over the padding', () =>
    checkGradient({ opType: 'Pad', opset: 13, inputs: [{ shape: [2, 3] }, int64([1, -1, 0, 2]), { shape: [] }] }));
  it('opset 18 with axes', () =>
    checkGradient({ opType: 'Pad', opset: 18, inputs: [{ shape: [2, 3, 4] }, int64([1, -1, 2, 0]), null, int64([-1, 0])] }));
  it.each(['reflect', 'edge'])('differentiates mode %s (more cases in pad-modes.test.ts)', (mode) =>
    checkGradient({ opType: 'Pad', opset: 13, attributes: { mode: { string: mode } }, inputs: [{ shape: [3, 3] }, int64([1, 1, 1, 1])] }),
  );
  it('refuses an unknown mode', () =>
    expect(
      checkGradient({ opType: 'Pad', opset: 13, attributes: { mode: { string: 'mirror' } }, inputs: [{ shape: [3] }, int64([1, 1])] }),
    ).rejects.toThrow(/mode "mirror" is not supported/));
  it.each([
    ['reflect', 13, [3, 4], [2, 1, 1, 3]],
    ['edge', 13, [3, 4], [2, 0, 1, 3]],
    ['edge', 13, [3, 4], [-1, 2, 1, -2]],
    ['reflect', 13, [4, 4], [-1, 1, 1, -1]],
    ['wrap', 19, [3, 4], [1, 2, 2, 3]],
    ['constant', 13, [3, 4], [-1, 2, 1, -3]],
  ])('evaluates mode %s (opset %i) on %j with pads %j as ONNX Runtime does', (mode, opset, shape, pads) =>
    checkForward({ opType: 'Pad', opset, attributes: { mode: { string: mode } }, inputs: [{ shape }, int64(pads)] }),
  );
});
