import { describe, expect, it } from 'vitest';
import { AttributionError, explain, hostTensor } from '@saliency/core';
import { createOnnxBackend } from '../src/index.js';
import { expectClose } from './helpers/check-gradient.js';
import { PRECISION_RUNTIMES as RUNTIMES } from './helpers/precision-fixtures.js';
import { readTextFixture } from './helpers/text-fixtures.js';
import { thrown } from './helpers/thrown.js';

/*
 * A model of two inputs (scripts/make-text-fixtures.py: an image and a float
 * vector) explained at the image with the vector as a feed, a different
 * vector per example: each model row (a noisy sample) must get its own
 * example's vector, whatever the chunking. Reference: PyTorch autograd in
 * float64 with the library's seeded noise.
 */

interface TwoInputReference {
  imageShape: number[];
  image: number[];
  vectorShape: number[];
  vector: number[];
  targets: number[];
  logits: number[];
  gradient: number[];
  smoothgrad: { numSamples: number; noiseScale: number; seed: number; map: number[] };
}

const TOLERANCE = 1e-4;
const { bytes, reference } = readTextFixture<TwoInputReference>('two_input');
const image = hostTensor(Float32Array.from(reference.image), reference.imageShape);
const vector = { data: Float32Array.from(reference.vector), shape: reference.vectorShape };

describe.each(RUNTIMES)('a second input as a feed, on %s', (_, ort, sessionOptions) => {
  it('gives the logits, the gradient and SmoothGrad of each example with its own feed row, within 1e-4 of PyTorch', async () => {
    const backend = createOnnxBackend(ort, bytes, { inputName: 'image', feeds: { vector }, sessionOptions });
    try {
      expectClose((await backend.logits(image)).data, reference.logits, TOLERANCE, 'logits');
      const gradient = await explain(backend, 'gradient', image, { target: reference.targets, batchSize: 1 });
      expectClose(gradient.data, reference.gradient, TOLERANCE, 'gradient');
      const { numSamples, noiseScale, seed, map } = reference.smoothgrad;
      // batchSize 4 < numSamples: one example's rows are split over calls, and two calls hold rows of both examples.
      for (const batchSize of [4, 64]) {
        const smooth = await explain(backend, 'smoothgrad', image, { target: reference.targets, numSamples, noiseScale, seed, batchSize });
        expectClose(smooth.data, map, TOLERANCE, `smoothgrad, batchSize ${batchSize}`);
      }
    } finally {
      await backend.dispose();
    }
  });
});

describe('feeds are checked when the backend is created', () => {
  const [, ort] = RUNTIMES[0]!;
  const create = (feeds: Record<string, { data: Float32Array | Int32Array | BigInt64Array; shape: number[] }> | undefined) =>
    thrown(() => createOnnxBackend(ort, bytes, { inputName: 'image', ...(feeds === undefined ? {} : { feeds }) }));

  it('a missing feed names it and lists every input with its type and shape', () => {
    const error = create(undefined);
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain('needs input "vector" besides the attributed input "image"');
    expect(error.message).toContain('"image" float32 [?, 3, 8, 8], "vector" float32 [?, 4]');
  });

  it('a feed of an unknown input or of the attributed one', () => {
    expect(create({ vector, extra: vector }).message).toContain('names "extra", not an input to feed');
    expect(create({ vector, image: vector }).message).toContain('"image" (the attributed input)');
  });

  it('a feed of the wrong element type or shape', () => {
    const wrongType = create({ vector: { data: new Int32Array(8), shape: [2, 4] } });
    expect(wrongType.code).toBe('INVALID_INPUT');
    expect(wrongType.message).toContain('the input is float32, which takes a Float32Array');
    const wrongShape = create({ vector: { data: new Float32Array(10), shape: [2, 5] } });
    expect(wrongShape.code).toBe('INVALID_SHAPE');
    expect(wrongShape.message).toContain('takes shape [?, 4]');
  });

  it("a feed's batch that is neither 1 nor the batch of x is refused when x arrives", async () => {
    const backend = createOnnxBackend(ort, bytes, { inputName: 'image', feeds: { vector } });
    try {
      const three = hostTensor(new Float32Array(3 * 3 * 64), [3, 3, 8, 8]);
      const error = await backend.logits(three).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AttributionError);
      expect((error as AttributionError).code).toBe('INVALID_SHAPE');
      expect((error as AttributionError).message).toContain('feed "vector" holds 2 examples, but x holds 3');
    } finally {
      await backend.dispose();
    }
  });

  it('a feed of batch 1 is shared by every example', async () => {
    const first = { data: vector.data.slice(0, 4), shape: [1, 4] };
    const shared = createOnnxBackend(ort, bytes, { inputName: 'image', feeds: { vector: first } });
    const own = createOnnxBackend(ort, bytes, { inputName: 'image', feeds: { vector } });
    try {
      const one = image.data.slice(0, 3 * 64);
      const twice = hostTensor(new Float32Array([...one, ...one]), [2, 3, 8, 8]);
      const a = await shared.logits(twice);
      const b = await own.logits(twice);
      expect(Array.from(a.data.slice(3, 6))).toEqual(Array.from(a.data.slice(0, 3)));
      expect(Array.from(a.data.slice(0, 3))).toEqual(Array.from(b.data.slice(0, 3)));
    } finally {
      await shared.dispose();
      await own.dispose();
    }
  });
});
