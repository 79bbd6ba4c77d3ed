import { beforeAll, describe, expect, it } from 'vitest';
import { centralDifferenceGradient } from '@saliency/core/reference';
import { withGradientPass } from '../src/gradient-pass.js';
import { tf, useBackend, type BackendName } from './helpers/tfjs-setup.js';
import { expectClose } from './helpers/compare.js';
import { prng, uniform } from './helpers/prng.js';

/*
 * Gradients TF.js 4.22 lacks that our pass supplies: StridedSlice's (on every
 * backend; checked against which elements TF.js's own forward kernel takes)
 * and the UnsortedSegmentSum kernel behind Gather's gradient (on wasm;
 * checked against finite differences and tfjs-cpu's own kernel).
 */

interface SliceCase {
  readonly shape: number[];
  readonly begin: number[];
  readonly end: number[];
  readonly strides: number[];
  readonly masks?: { begin?: number; end?: number; ellipsis?: number; newAxis?: number; shrinkAxis?: number };
}

const SLICES: SliceCase[] = [
  { shape: [2, 6, 5, 3], begin: [0, 1, 0, 0], end: [2, 5, 5, 2], strides: [1, 1, 1, 1] },
  { shape: [2, 7, 6, 3], begin: [0, 0, 1, 0], end: [2, 7, 6, 3], strides: [1, 2, 3, 1] },
  { shape: [3, 8], begin: [2, 7], end: [0, 0], strides: [-1, -2], masks: { end: 1 } },
  { shape: [2, 5, 4], begin: [0, 1, 0], end: [0, 2, 0], strides: [1, 1, 1], masks: { begin: 5, end: 5, shrinkAxis: 2 } },
  { shape: [2, 4, 6], begin: [0, 1], end: [0, 5], strides: [1, 2], masks: { ellipsis: 1 } },
  { shape: [4, 5], begin: [1, 0, 0], end: [3, 0, 5], strides: [1, 1, 1], masks: { newAxis: 2 } },
  { shape: [3, 4], begin: [1, 1], end: [1, 3], strides: [1, 1] },
];

function slice(x: tf.Tensor, c: SliceCase): tf.Tensor {
  const m = c.masks ?? {};
  return tf.stridedSlice(x, c.begin, c.end, c.strides, m.begin ?? 0, m.end ?? 0, m.ellipsis ?? 0, m.newAxis ?? 0, m.shrinkAxis ?? 0);
}

describe.each(['cpu', 'wasm'] satisfies BackendName[])('supplied gradients on %s', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it.each(SLICES.map((c) => [JSON.stringify(c), c] as const))('StridedSlice %s', async (_, c) => {
    const size = c.shape.reduce((p, d) => p * d, 1);
    // Which elements the slice takes, by TF.js's forward kernel on their indices.
    const indices = slice(tf.reshape(tf.range(0, size, 1, 'float32'), c.shape), c);
    const taken = await indices.data();
    const r = uniform(prng(size), taken.length, 1);
    const expected = new Float64Array(size);
    taken.forEach((index, j) => {
      expected[index]! += r[j]!;
    });
    const x = tf.tensor(Float32Array.from(uniform(prng(3), size, 1)), c.shape);
    const weights = tf.tensor(Float32Array.from(r), indices.shape);
    const g = withGradientPass(true, () => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(slice(input, c), weights)))(x));
    expect(g.shape).toEqual(c.shape);
    const values = await g.data();
    if (taken.length === 0) expect(Array.from(values).every((v) => v === 0)).toBe(true);
    else expectClose(values, expected, 1e-6, 'StridedSlice');
    tf.dispose([indices, x, weights, g]);
  });

  it('gathers: input gradient of Σ r · gather(x, ids, axis 1), ids repeated, against finite differences', async () => {
    const shape = [2, 5, 3];
    const ids = [4, 0, 4, 2, 4, 1];
    const x = uniform(prng(11), 30, 1);
    const r = uniform(prng(12), 2 * ids.length * 3, 1);
    const forward = (v: Float64Array) => {
      const out: number[] = [];
      for (let b = 0; b < 2; b++) for (const id of ids) for (let c = 0; c < 3; c++) out.push(v[(b * 5 + id) * 3 + c]!);
      let s = 0;
      out.forEach((o, i) => (s += o * r[i]!));
      return Float64Array.of(s);
    };
    const weights = tf.tensor(Float32Array.from(r), [2, ids.length, 3]);
    const idsT = tf.tensor1d(ids, 'int32');
    const g = withGradientPass(true, () =>
      tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.gather(input, idsT, 1), weights)))(tf.tensor(Float32Array.from(x), shape)),
    );
    expectClose(await g.data(), centralDifferenceGradient(forward, x, 0), 1e-5, 'gather');
    tf.dispose([weights, idsT, g]);
  });

  it('segment sums like tfjs-cpu, ids out of range dropped', async () => {
    const data = uniform(prng(21), 6 * 4, 1);
    const ids = [2, 0, 2, -1, 3, 5];
    const expected = new Float64Array(4 * 4);
    ids.forEach((id, i) => {
      if (id >= 0 && id < 4) for (let c = 0; c < 4; c++) expected[id * 4 + c]! += data[i * 4 + c]!;
    });
    const { unsortedSegmentSum } = await import('../src/segment-sum-kernel.js');
    const sums = unsortedSegmentSum(tf.tensor2d(Float32Array.from(data), [6, 4]), tf.tensor1d(ids, 'int32'), 4);
    expectClose(await sums.data(), expected, 1e-6, 'segment sum');
    if (backendName === 'cpu') {
      const own = tf.unsortedSegmentSum(tf.tensor2d(Float32Array.from(data), [6, 4]), tf.tensor1d(ids, 'int32'), 4);
      expectClose(await own.data(), expected, 1e-6, 'tfjs-cpu');
    }
  });
});
