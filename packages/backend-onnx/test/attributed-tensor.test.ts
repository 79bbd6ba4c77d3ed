import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { AttributionError, hostTensor } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { DataType } from '../src/model/data-type.js';
import { node, onnxBytes, valueInfo } from './helpers/onnx-model-builder.js';
import { thrown } from './helpers/thrown.js';

/*
 * What attribution at a tensor (docs/methods.md, "Attribution at a tensor")
 * refuses, each with its code and what to do instead, on small hand-built
 * models; the values it computes are checked against PyTorch in
 * text-models.test.ts.
 */

const ort = ortNode as unknown as OnnxRuntimeModule;
const weights = { w: { dims: [4, 2], values: [1, -1, 0.5, 2, -0.5, 1, 2, 0.25] } };

async function rejection(promise: Promise<unknown>): Promise<AttributionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AttributionError);
  return error as AttributionError;
}

describe('attribution at a tensor refuses', () => {
  it('an integer input looked up by no Gather on a float table, when the backend is created', () => {
    const bytes = onnxBytes({
      nodes: [node('Cast', ['ids'], ['f'], { to: { int: DataType.FLOAT } }), node('MatMul', ['f', 'w'], ['logits'])],
      initializers: weights,
      inputs: [valueInfo('ids', ['batch', 4], DataType.INT64)],
      outputs: [valueInfo('logits', ['batch', 2])],
    });
    const error = thrown(() => createOnnxBackend(ort, bytes));
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    expect(error.message).toContain('input "ids" holds int64 values, which carry no gradient');
    expect(error.message).toContain('give option layer a float tensor computed from it');
  });

  it('a layer of integers, when attributedInput first sees its type', async () => {
    const bytes = onnxBytes({
      nodes: [
        node('Cast', ['x'], ['rounded'], { to: { int: DataType.INT64 } }),
        node('Cast', ['rounded'], ['f'], { to: { int: DataType.FLOAT } }),
        node('MatMul', ['f', 'w'], ['logits']),
      ],
      initializers: weights,
      inputs: [valueInfo('x', ['batch', 4])],
      outputs: [valueInfo('logits', ['batch', 2])],
    });
    const backend = createOnnxBackend(ort, bytes, { layer: 'rounded' });
    try {
      const error = await rejection(backend.attributedInput({ data: new Float32Array(4), shape: [1, 4] }));
      expect(error.code).toBe('UNSUPPORTED_MODEL');
      expect(error.message).toContain('tensor "rounded" (output of Cast node #0) is not a float');
    } finally {
      await backend.dispose();
    }
  });

  it('a model that reads its input after the layer other than through it, naming the node', async () => {
    const bytes = onnxBytes({
      nodes: [node('Tanh', ['x'], ['a']), node('Add', ['a', 'x'], ['s'], {}, 'skip'), node('MatMul', ['s', 'w'], ['logits'])],
      initializers: weights,
      inputs: [valueInfo('x', ['batch', 4])],
      outputs: [valueInfo('logits', ['batch', 2])],
    });
    const backend = createOnnxBackend(ort, bytes, { layer: 'a' });
    try {
      const a = await backend.attributedInput({ data: Float32Array.from([0.1, -0.2, 0.3, 0.4]), shape: [1, 4] });
      [0.1, -0.2, 0.3, 0.4].forEach((v, i) => expect(a.data[i]).toBeCloseTo(Math.tanh(v), 6));
      const error = await rejection(backend.gradients(a, Int32Array.from([0])));
      expect(error.code).toBe('UNSUPPORTED_MODEL');
      expect(error.message).toContain('Add node "skip" reads input "x" itself, not only through the attributed tensor "a"');
    } finally {
      await backend.dispose();
    }
  });

  it('x given without attributedInput where the model after the layer reads the input shape', async () => {
    // The layer's own shape is [B, 4]; the model reshapes by the input's shape, [B, 2, 2], which x cannot tell.
    const bytes = onnxBytes({
      nodes: [
        node('Flatten', ['x'], ['flat']),
        node('Tanh', ['flat'], ['a']),
        node('Shape', ['x'], ['xs']),
        node('Reshape', ['a', 'xs'], ['back']),
        node('Flatten', ['back'], ['again']),
        node('MatMul', ['again', 'w'], ['logits']),
      ],
      initializers: weights,
      inputs: [valueInfo('x', ['batch', 2, 'n'])],
      outputs: [valueInfo('logits', ['batch', 2])],
    });
    const backend = createOnnxBackend(ort, bytes, { layer: 'a' });
    try {
      const x = hostTensor(Float32Array.from([0.1, 0.2, 0.3, 0.4]), [1, 4]);
      const error = await rejection(backend.gradients(x, Int32Array.from([1])));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toContain('make x with backend.attributedInput(x)');
      const a = await backend.attributedInput({ data: x.data, shape: [1, 2, 2] });
      const gradient = await backend.gradients(a, Int32Array.from([1]));
      // logits_1 = Σ_i tanh(x_i) w_i1: the gradient at a is w's column 1.
      expect(Array.from(gradient.data)).toEqual([-1, 2, 1, 0.25]);
    } finally {
      await backend.dispose();
    }
  });
});
