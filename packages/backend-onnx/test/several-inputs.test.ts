import { describe, expect, it } from 'vitest';
import { AttributionError, explain, hostTensor } from '@saliency/core';
import { createOnnxBackend, exportAttributionModel, MAP_OUTPUT, NOISE_INPUT, TARGET_INPUT } from '../src/index.js';
import { expectClose } from './helpers/check-gradient.js';
import { seededNoiseTensor } from './helpers/export-fixtures.js';
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
  layer: { shape: number[]; activation: number[]; gradient: number[] };
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

  it('gives the last feature map and the gradient there (layer methods) with each example its own feed row', async () => {
    const backend = createOnnxBackend(ort, bytes, { inputName: 'image', feeds: { vector }, sessionOptions });
    try {
      // One example per call, as core chunks with batchSize 1: the second call's row is example 1.
      const parts = await Promise.all(
        [0, 1].map((b) =>
          backend.layerGradients(
            hostTensor(image.data.slice(b * 192, (b + 1) * 192), [1, 3, 8, 8]),
            Int32Array.of(reference.targets[b]!),
            undefined,
            { examples: Int32Array.of(b) },
          ),
        ),
      );
      expect(parts[0]!.activation.shape).toEqual([1, ...reference.layer.shape.slice(1)]);
      expectClose([...parts[0]!.activation.data, ...parts[1]!.activation.data], reference.layer.activation, TOLERANCE, 'activation');
      expectClose([...parts[0]!.gradient.data, ...parts[1]!.gradient.data], reference.layer.gradient, TOLERANCE, 'layer gradient');
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

describe('the exported model of a two-input model', () => {
  const [, ort] = RUNTIMES[0]!;
  const run = async (model: Uint8Array, feeds: Record<string, Float32Array | BigInt64Array>, shapes: Record<string, number[]>) => {
    const session = await ort.InferenceSession.create(model);
    try {
      const tensor = (data: Float32Array | BigInt64Array, shape: number[]) =>
        data instanceof BigInt64Array ? new ort.Tensor('int64', data, shape) : new ort.Tensor('float32', data, shape);
      const inputs = Object.fromEntries(Object.entries(feeds).map(([name, data]) => [name, tensor(data, shapes[name]!)]));
      return Float32Array.from((await session.run(inputs))[MAP_OUTPUT]!.data as Float32Array);
    } finally {
      await session.release();
    }
  };

  it("keeps the fed input as an input of its own, each example's noisy rows reading its row: SmoothGrad within 1e-4 of PyTorch", async () => {
    const { numSamples, noiseScale, seed, map } = reference.smoothgrad;
    const exported = exportAttributionModel(bytes, {
      method: 'smoothgrad',
      inputName: 'image',
      inputShape: image.shape,
      numSamples,
      targetSource: 'input',
    });
    expect(exported.inputs.map((input) => [input.name, input.shape, input.type])).toEqual([
      ['image', [2, 3, 8, 8], 'float32'],
      ['vector', [2, 4], 'float32'],
      [NOISE_INPUT, [2, numSamples, 3, 8, 8], 'float32'],
      [TARGET_INPUT, [2], 'int64'],
    ]);
    const noise = seededNoiseTensor(image.shape, numSamples, seed, noiseScale);
    const out = await run(
      exported.bytes,
      { image: image.data, vector: vector.data, [NOISE_INPUT]: noise, [TARGET_INPUT]: BigInt64Array.from(reference.targets, BigInt) },
      { image: [...image.shape], vector: [...vector.shape], [NOISE_INPUT]: [2, numSamples, 3, 8, 8], [TARGET_INPUT]: [2] },
    );
    expectClose(out, map, TOLERANCE, 'exported smoothgrad');
  });

  it('Integrated Gradients as the backend computes it with the feed', async () => {
    const exported = exportAttributionModel(bytes, {
      method: 'integrated_gradients',
      inputName: 'image',
      inputShape: image.shape,
      steps: 8,
    });
    const out = await run(
      exported.bytes,
      { image: image.data, vector: vector.data },
      { image: [...image.shape], vector: [...vector.shape] },
    );
    const backend = createOnnxBackend(ort, bytes, { inputName: 'image', feeds: { vector } });
    try {
      // Both explain each example's argmax class.
      const expected = await explain(backend, 'integrated_gradients', image, { steps: 8 });
      expectClose(out, expected.data, 1e-5, 'exported integrated gradients');
    } finally {
      await backend.dispose();
    }
  });

  it('refuses feedShapes of an unknown input, listing the inputs', () => {
    const error = thrown(() =>
      exportAttributionModel(bytes, { method: 'gradient', inputName: 'image', inputShape: image.shape, feedShapes: { nope: [2] } }),
    );
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain('option feedShapes names "nope", not an input to feed; the model\'s inputs are "image" float32');
  });
});
