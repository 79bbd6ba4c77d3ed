import { loadGraphModelSync } from '@tensorflow/tfjs-converter';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttributionError, explain, hostTensor, oneHotRows, type HostTensor } from '@saliency/core';
import { createTfjsBackend } from '../src/index.js';
import { expectClose } from './helpers/compare.js';
import { float64Model, type ModelSpec } from './helpers/float64-model.js';
import { denseGraphModel } from './helpers/graph-model.js';
import { channelsLast } from './helpers/parity-fixtures.js';
import { prng, uniform } from './helpers/prng.js';
import { cnnSpec, example, layersModel, mlpSpec, randomInput } from './helpers/test-models.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';

function thrown(call: () => unknown): AttributionError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(AttributionError);
    return error as AttributionError;
  }
  throw new Error('expected a throw');
}

async function rejection(promise: Promise<unknown>): Promise<AttributionError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AttributionError);
    return error as AttributionError;
  }
  throw new Error('expected a rejection');
}

/**
 * A functional model of two inputs: a float vector `a` [6] through a Dense
 * ReLU, and token ids `ids` [4] (int32) through an Embedding, concatenated,
 * then Dense ReLU and Dense logits [4].
 */
function twoInputModel() {
  const a = tfl.input({ shape: [6], name: 'a' });
  const ids = tfl.input({ shape: [4], dtype: 'int32', name: 'ids' });
  const hidden = tfl.layers.dense({ units: 5, activation: 'relu', name: 'hidden' });
  const embedding = tfl.layers.embedding({ inputDim: 10, outputDim: 3, name: 'embedding' });
  const flatten = tfl.layers.flatten({ name: 'flatten' });
  const concat = tfl.layers.concatenate({ name: 'concat' });
  const mix = tfl.layers.dense({ units: 7, activation: 'relu', name: 'mix' });
  const logits = tfl.layers.dense({ units: 4, name: 'logits' });
  const h = hidden.apply(a) as tfl.SymbolicTensor;
  const e = embedding.apply(ids) as tfl.SymbolicTensor;
  const out = logits.apply(mix.apply(concat.apply([h, flatten.apply(e) as tfl.SymbolicTensor]))) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: [a, ids], outputs: out });
  const random = prng(5);
  tf.tidy(() => model.setWeights(model.getWeights().map((w) => tf.tensor(Float32Array.from(uniform(random, w.size, 0.8)), w.shape))));
  /** The logits composed by hand from the layers, from `a`'s Dense output and the embeddings. */
  const fromParts = (aValue: tf.Tensor, embeddings: tf.Tensor): tf.Tensor =>
    logits.apply(mix.apply(concat.apply([hidden.apply(aValue) as tf.Tensor, flatten.apply(embeddings) as tf.Tensor]))) as tf.Tensor;
  return { model, embedding, fromParts };
}

const IDS = Int32Array.from([3, 1, 4, 1]);

/** The TF.js gradient of Σ_r logits[r, t_r] of `f` at `x`, on the active backend. */
function directGradient(f: (x: tf.Tensor) => tf.Tensor, x: HostTensor, targets: Int32Array): Float32Array {
  return tf.tidy(() => {
    const rows = targets.length;
    const objective = (input: tf.Tensor) => {
      const out = f(input);
      return tf.sum(tf.mul(out, tf.tensor2d(oneHotRows(targets, out.shape[1]!), [rows, out.shape[1]!])));
    };
    return tf
      .grad(objective)(tf.tensor(x.data, [...x.shape]))
      .dataSync() as Float32Array;
  });
}

describe.each(BACKENDS)('several inputs and attribution at a layer on TF.js %s', (backendName) => {
  let model: tfl.LayersModel;
  let embedding: tfl.layers.Layer;
  let fromParts: (aValue: tf.Tensor, embeddings: tf.Tensor) => tf.Tensor;
  beforeAll(async () => {
    await useBackend(backendName);
    ({ model, embedding, fromParts } = twoInputModel());
  });
  afterAll(() => model.dispose());
  const x = randomInput({ inputShape: [6], layers: [] }, 3, 21);
  const targets = Int32Array.from([0, 3, 2]);

  it('inputName and a feed of batch 1: the gradient of the composed function', async () => {
    const before = tf.memory().numTensors;
    const backend = createTfjsBackend(model, { inputName: 'a', feeds: { ids: { data: IDS, shape: [1, 4] } } });
    const gradient = await backend.gradients(x, targets);
    const ids = tf.tensor2d(IDS, [1, 4], 'int32');
    const expected = directGradient((a) => model.apply([a, tf.tile(ids, [3, 1])]) as tf.Tensor, x, targets);
    ids.dispose();
    expectClose(gradient.data, expected, 1e-5, 'gradient with a shared feed');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a feed of one row per row, and BigInt64 ids', async () => {
    const perRow = BigInt64Array.from([3, 1, 4, 1, 0, 9, 2, 6, 5, 3, 5, 8].map(BigInt));
    const backend = createTfjsBackend(model, { inputName: 'a', feeds: { ids: { data: perRow, shape: [3, 4] } } });
    const gradient = await backend.gradients(x, targets);
    const ids = tf.tensor2d(Int32Array.from(perRow, Number), [3, 4], 'int32');
    const expected = directGradient((a) => model.apply([a, ids]) as tf.Tensor, x, targets);
    ids.dispose();
    expectClose(gradient.data, expected, 1e-5, 'gradient with a feed per row');
    const error = await rejection(backend.gradients(hostTensor(x.data.subarray(0, 12), [2, 6]), targets.subarray(0, 2)));
    expect(error.code).toBe('INVALID_SHAPE');
    expect(error.message).toContain('"ids" has a batch of 3, but this call runs 2 rows');
  });

  it("SmoothGrad and VarGrad of two examples with a feed row each: each sample takes its example's row (request.examples)", async () => {
    const ids = Int32Array.from([3, 1, 4, 1, 0, 9, 2, 6]);
    const two = hostTensor(x.data.subarray(0, 12), [2, 6]);
    // The caller's noise, a function of (example, sample), so that a one-example run can be given the same samples.
    const noiseOf = (example: number, sample: number, out: Float32Array) => {
      const random = prng(1000 + 97 * example + sample);
      out.set(uniform(random, out.length, 0.5));
    };
    const options = (offset: number, batchSize: number) => ({
      target: [0, 3].slice(offset, offset + (offset === 0 ? 2 : 1)),
      numSamples: 6,
      batchSize,
      noise: (example: number, sample: number, out: Float32Array) => noiseOf(example + offset, sample, out),
    });
    const before = tf.memory().numTensors;
    const backend = createTfjsBackend(model, { inputName: 'a', feeds: { ids: { data: ids, shape: [2, 4] } } });
    for (const method of ['smoothgrad', 'vargrad'] as const) {
      const single = await Promise.all(
        [0, 1].map(async (example) => {
          const alone = createTfjsBackend(model, {
            inputName: 'a',
            feeds: { ids: { data: ids.slice(example * 4, example * 4 + 4), shape: [1, 4] } },
          });
          const one = hostTensor(two.data.slice(example * 6, example * 6 + 6), [1, 6]);
          return (await explain(alone, method, one, { ...options(example, 64), target: [0, 3][example]! })).data;
        }),
      );
      const expected = Float32Array.from([...single[0]!, ...single[1]!]);
      // 12 rows in one call (both examples' samples), and in calls of 4 rows (runs of one example's samples)
      for (const batchSize of [12, 4]) {
        const map = await explain(backend, method, two, options(0, batchSize));
        expectClose(map.data, expected, 1e-5, `${method}, batchSize ${batchSize}`);
      }
    }
    // a feed row shared by both examples gives example 1 another map: the test tells the rows apart
    const shared = createTfjsBackend(model, { inputName: 'a', feeds: { ids: { data: ids.slice(0, 4), shape: [1, 4] } } });
    const sharedMap = await explain(shared, 'smoothgrad', two, options(0, 12));
    const alone = createTfjsBackend(model, { inputName: 'a', feeds: { ids: { data: ids.slice(4), shape: [1, 4] } } });
    const second = await explain(alone, 'smoothgrad', hostTensor(two.data.slice(6), [1, 6]), { ...options(1, 64), target: 3 });
    expect(Math.max(...second.data.map((v, i) => Math.abs(v - sharedMap.data[6 + i]!)))).toBeGreaterThan(1e-3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('attribution at the embeddings of token ids (layer, inputName, feeds)', async () => {
    const before = tf.memory().numTensors;
    const backend = createTfjsBackend(model, { inputName: 'ids', layer: 'embedding', feeds: { a: { data: x.data, shape: x.shape } } });
    const ids = Int32Array.from([3, 1, 4, 1, 0, 9, 2, 6, 5, 3, 5, 8]);
    const embeddings = await backend.attributedInput({ data: ids, shape: [3, 4] });
    expect(embeddings.shape).toEqual([3, 4, 3]);
    const table = embedding.getWeights()[0]!.dataSync();
    const expectedEmbeddings = Array.from(ids).flatMap((id) => Array.from(table.subarray(id * 3, id * 3 + 3)));
    expect(Array.from(embeddings.data)).toEqual(expectedEmbeddings);

    const gradient = await backend.gradients(embeddings, targets);
    const a = tf.tensor(x.data, [...x.shape]);
    const expected = directGradient((e) => fromParts(a, e), embeddings, targets);
    a.dispose();
    expectClose(gradient.data, expected, 1e-5, 'gradient at the embeddings');
    // Gradient × Input at the embeddings is the gradient times the embeddings (docs/methods.md, "Attribution at a tensor").
    const map = await explain(backend, 'gradient_x_input', embeddings, { target: Array.from(targets) });
    expectClose(
      map.data,
      gradient.data.map((g, i) => g * embeddings.data[i]!),
      1e-6,
      'gradient × input',
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Integrated Gradients at the embeddings with a shared feed keeps completeness over every call', async () => {
    const a = { data: x.data.subarray(0, 6), shape: [1, 6] };
    const backend = createTfjsBackend(model, { inputName: 'ids', layer: 'embedding', feeds: { a } });
    const embeddings = await backend.attributedInput({ data: IDS, shape: [1, 4] });
    // 256 steps in calls of 48 rows: the feed is repeated over each call's rows.
    const map = await explain(backend, 'integrated_gradients', embeddings, { target: 2, steps: 256, batchSize: 48, baseline: 0 });
    const total = map.data.reduce((sum, v) => sum + v, 0);
    const [at, base] = [await backend.logits(embeddings), await backend.logits(hostTensor(new Float32Array(12), [1, 4, 3]))];
    const difference = at.data[2]! - base.data[2]!;
    expect(Math.abs(difference)).toBeGreaterThan(0.05);
    expect(Math.abs(total - difference)).toBeLessThanOrEqual(1e-2 * Math.abs(difference));
  });

  it('coded errors that list the model inputs', () => {
    const inputs = ['"a" float32 [any, 6]', '"ids" int32 [any, 4]'];
    for (const error of [
      thrown(() => createTfjsBackend(model)),
      thrown(() => createTfjsBackend(model, { inputName: 'b' })),
      thrown(() => createTfjsBackend(model, { inputName: 'a' })),
      thrown(() =>
        createTfjsBackend(model, { inputName: 'a', feeds: { ids: { data: IDS, shape: [1, 4] }, nope: { data: IDS, shape: [1, 4] } } }),
      ),
    ]) {
      expect(error.code).toBe('INVALID_OPTION');
      for (const input of inputs) expect(error.message).toContain(input);
    }
    expect(thrown(() => createTfjsBackend(model, { inputName: 'a' })).message).toContain('feeds lacks the input "ids" int32 [any, 4]');
    const shape = thrown(() => createTfjsBackend(model, { inputName: 'a', feeds: { ids: { data: IDS, shape: [1, 2, 2] } } }));
    expect(shape.code).toBe('INVALID_SHAPE');
    expect(shape.message).toContain('"ids" int32 [any, 4]');
    expect(shape.message).toContain('[1, 2, 2]');
  });

  it('a layer that is unknown, or that the input passes by: INVALID_OPTION naming the layers there are', () => {
    const unknown = thrown(() => createTfjsBackend(model, { inputName: 'a', layer: 'nope', feeds: { ids: { data: IDS, shape: [1, 4] } } }));
    expect(unknown.code).toBe('INVALID_OPTION');
    expect(unknown.message).toContain('"hidden" (Dense) [any, 5]');
    expect(unknown.message).toContain('"mix" (Dense) [any, 7]');
    // The embedding does not depend on `a`.
    const upstream = thrown(() =>
      createTfjsBackend(model, { inputName: 'a', layer: 'embedding', feeds: { ids: { data: IDS, shape: [1, 4] } } }),
    );
    expect(upstream.message).toContain('is not computed from "a"');

    const input = tfl.input({ shape: [6] });
    const inner = tfl.layers.dense({ units: 6, name: 'inner' });
    const residual = tfl.layers.add().apply([inner.apply(input) as tfl.SymbolicTensor, input]) as tfl.SymbolicTensor;
    const skip = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 3 }).apply(residual) as tfl.SymbolicTensor });
    const around = thrown(() => createTfjsBackend(skip, { layer: 'inner' }));
    expect(around.code).toBe('INVALID_OPTION');
    expect(around.message).toContain('does not separate');
    skip.dispose();
  });
});

/**
 * A GraphModel of two inputs, `x` [6] and `m` [6] (float32): logits
 * (x ∘ m) · W + b, so that ∂ logit_t / ∂x = m ∘ W[:, t] in closed form.
 */
function productGraphModel(w: Float32Array, b: Float32Array) {
  const FLOAT = { type: 'DT_FLOAT' };
  const shape = (dims: number[]) => ({ dim: dims.map((size) => ({ size: String(size) })) });
  const placeholder = (name: string) => ({ name, op: 'Placeholder', attr: { dtype: FLOAT, shape: { shape: shape([-1, 6]) } } });
  const constant = (name: string, dims: number[]) => ({
    name,
    op: 'Const',
    attr: { dtype: FLOAT, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: shape(dims) } } },
  });
  const weightData = new Float32Array(w.length + b.length);
  weightData.set(w);
  weightData.set(b, w.length);
  return loadGraphModelSync({
    modelTopology: {
      node: [
        placeholder('x'),
        placeholder('m'),
        constant('w', [6, 3]),
        constant('b', [3]),
        { name: 'product', op: 'Mul', input: ['x', 'm'], attr: { T: FLOAT } },
        { name: 'matmul', op: 'MatMul', input: ['product', 'w'], attr: { T: FLOAT, transpose_a: { b: false }, transpose_b: { b: false } } },
        { name: 'logits', op: 'BiasAdd', input: ['matmul', 'b'], attr: { T: FLOAT } },
      ],
      versions: { producer: 1 },
    },
    weightSpecs: [
      { name: 'w', shape: [6, 3], dtype: 'float32' },
      { name: 'b', shape: [3], dtype: 'float32' },
    ],
    weightData: weightData.buffer,
    format: 'graph-model',
  });
}

describe.each(BACKENDS)('a GraphModel of two inputs on TF.js %s', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it('inputName and feeds, either input attributed: the closed-form gradient', async () => {
    const random = prng(61);
    const w = Float32Array.from(uniform(random, 18, 1));
    const model = productGraphModel(w, Float32Array.from(uniform(random, 3, 1)));
    const x = randomInput({ inputShape: [6], layers: [] }, 2, 62);
    const m = randomInput({ inputShape: [6], layers: [] }, 1, 63);
    const targets = Int32Array.from([2, 0]);
    /** `other` ∘ W[:, t_r] for each row r, `other` of batch 1 or 2. */
    const closedForm = (other: HostTensor) =>
      Array.from({ length: 12 }, (_, i) => {
        const [r, k] = [Math.floor(i / 6), i % 6];
        return other.data[(other.shape[0] === 1 ? 0 : r) * 6 + k]! * w[k * 3 + targets[r]!]!;
      });
    const atX = createTfjsBackend(model, { inputName: 'x', feeds: { m } });
    expectClose((await atX.gradients(x, targets)).data, closedForm(m), 1e-6, 'at x');
    const atM = createTfjsBackend(model, { inputName: 'm', feeds: { x } });
    const mRows = hostTensor(Float32Array.from([...m.data, ...m.data]), [2, 6]);
    expectClose((await atM.gradients(mRows, targets)).data, closedForm(x), 1e-6, 'at m');
    const missing = thrown(() => createTfjsBackend(model, { inputName: 'x' }));
    expect(missing.code).toBe('INVALID_OPTION');
    expect(missing.message).toContain('feeds lacks the input "m" float32 [any, 6]');
    expect(thrown(() => createTfjsBackend(model)).message).toContain('"x" float32 [any, 6], "m" float32 [any, 6]');
    model.dispose();
  });
});

/** The spec from layer `from` on, taking that layer's input (of `shape`). */
function remainder(spec: ModelSpec, from: number, shape: readonly number[]): ModelSpec {
  return { inputShape: shape, layers: spec.layers.slice(from) };
}

describe.each(BACKENDS)('attribution at a layer and layer gradients against float64 on TF.js %s', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it('LayersModel MLP at its first Dense: attributedInput and the gradients of the rest', async () => {
    const spec = mlpSpec();
    const model = layersModel(spec);
    const u = randomInput(spec, 3, 31);
    const targets = Int32Array.from([1, 0, 3]);
    const backend = createTfjsBackend(model, { layer: model.layers[0]!.name });
    expect(backend.inputShape).toEqual([null, 8]);
    const a = await backend.attributedInput(u);
    const first = float64Model({ inputShape: spec.inputShape, layers: spec.layers.slice(0, 1) });
    const rest = float64Model(remainder(spec, 1, [8]));
    for (let r = 0; r < 3; r++) expectClose(a.data.subarray(r * 8, r * 8 + 8), first.logits(example(u, r)), 1e-5, `activation ${r}`);
    const gradient = await backend.gradients(a, targets);
    for (let r = 0; r < 3; r++) {
      expectClose(gradient.data.subarray(r * 8, r * 8 + 8), rest.gradient(example(a, r), targets[r]!), 1e-5, `gradient ${r}`);
    }
    model.dispose();
  });

  it('GraphModel MLP at node dense0/Relu: attributedInput, gradients and layerGradients', async () => {
    const spec = mlpSpec(3);
    const model = denseGraphModel(spec, true);
    const u = randomInput(spec, 2, 41);
    const targets = Int32Array.from([2, 1]);
    const first = float64Model({ inputShape: spec.inputShape, layers: spec.layers.slice(0, 1) });
    const rest = float64Model(remainder(spec, 1, [8]));

    const atLayer = createTfjsBackend(model, { layer: 'dense0/Relu' });
    const a = await atLayer.attributedInput(u);
    for (let r = 0; r < 2; r++) expectClose(a.data.subarray(r * 8, r * 8 + 8), first.logits(example(u, r)), 1e-5, `activation ${r}`);
    const gradient = await atLayer.gradients(a, targets);
    for (let r = 0; r < 2; r++) {
      expectClose(gradient.data.subarray(r * 8, r * 8 + 8), rest.gradient(example(a, r), targets[r]!), 1e-5, `gradient ${r}`);
    }

    const layered = await createTfjsBackend(model).layerGradients(u, targets, 'dense0/Relu:0');
    expect(layered.layer).toBe('dense0/Relu');
    expectClose(layered.activation.data, a.data, 1e-6, 'layer activation');
    expectClose(layered.gradient.data, gradient.data, 1e-6, 'layer gradient');

    const unknown = thrown(() => createTfjsBackend(model, { layer: 'dense9/Relu' }));
    expect(unknown.code).toBe('INVALID_OPTION');
    expect(unknown.message).toContain('"dense1/Relu" (Relu)');
    const noMap = await rejection(createTfjsBackend(model).layerGradients(u, targets, undefined));
    expect(noMap.code).toBe('UNSUPPORTED_MODEL');
  });

  it('LayersModel CNN: the default Grad-CAM layer is the max pool, its gradient that of the rest', async () => {
    const spec = cnnSpec('a');
    const model = layersModel(spec);
    const u = randomInput(spec, 2, 51);
    const targets = Int32Array.from([3, 0]);
    const before = tf.memory().numTensors;
    const layered = await createTfjsBackend(model).layerGradients(u, targets, undefined);
    expect(tf.memory().numTensors).toBe(before);
    expect(layered.layer).toBe(model.layers[1]!.name);
    expect(layered.activation.shape).toEqual([2, 3, 3, 3]);
    const activation = channelsLast(Array.from(layered.activation.data), layered.activation.shape);
    const gradient = channelsLast(Array.from(layered.gradient.data), layered.gradient.shape).values;
    const first = float64Model({ inputShape: spec.inputShape, layers: spec.layers.slice(0, 2) });
    const rest = float64Model(remainder(spec, 2, [3, 3, 3]));
    for (let r = 0; r < 2; r++) {
      const a = Float64Array.from(activation.values.slice(r * 27, r * 27 + 27));
      expectClose(a, first.logits(example(u, r)), 1e-5, `activation ${r}`);
      expectClose(gradient.slice(r * 27, r * 27 + 27), rest.gradient(a, targets[r]!), 1e-5, `gradient ${r}`);
    }
    model.dispose();
  });
});
