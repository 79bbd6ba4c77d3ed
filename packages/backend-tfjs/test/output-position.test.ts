import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { AttributionError, explain, hostTensor, oneHotRows, type HostTensor, type OutputPosition } from '@saliency/core';
import { createTfjsBackend, type TfjsModel } from '../src/index.js';
import { expectClose, maxAbs } from './helpers/compare.js';
import { attrs, GraphDefBuilder } from './helpers/graph-model.js';
import { prng, uniform } from './helpers/prng.js';
import { BACKENDS, tf, useBackend, type BackendName } from './helpers/tfjs-setup.js';

/*
 * The option outputPosition (docs/methods.md, "Output position") on small
 * models made here whose output is not [B, K]:
 *
 *   sequence  x [B, 12, 3] → Conv1D (5, kernel 3, tanh) → TimeDistributed(Dense 4, softmax): [B, T = 12, K = 4]
 *   dense     x [B, 6, 6, 2] → Conv2D (4, 3×3, relu) → Conv2D (2, 1×1) → Activation sigmoid: [B, 6, 6, K = 2]
 *             (a LayersModel, and the same net as a tfjs-converter GraphModel)
 *
 * Each is explained at a fixed index and over a range. The references are
 * TF.js's own: the model's twin without its head (the same layers and
 * weights, the last activation linear) run by `predict`, the position taken
 * by `tf.gather` and `tf.mean` (not the backend's slice), differentiated by
 * `tf.grad`; and central finite differences of the twin's `predict`, the
 * position read on the host.
 */

const SEQUENCE = { input: [12, 3], classes: 4 } as const;
const DENSE = { input: [6, 6, 2], classes: 2 } as const;
const BATCH = 2;

interface Case {
  readonly name: string;
  /** The model as it ships, ending in its probability head. */
  readonly model: TfjsModel;
  /** The same net without its head: the logits. */
  readonly twin: tfl.LayersModel;
  readonly inputShape: readonly number[];
  readonly positions: ReadonlyArray<{ position: OutputPosition; targets: number[] }>;
  /** Grad-CAM's layer and the twin's function from its activation to the logits, where the model has layers. */
  readonly layer?: { name: string; activation: (x: tf.Tensor) => tf.Tensor; logitsFrom: (a: tf.Tensor) => tf.Tensor };
}

/** Uniform weights in [-scale, scale), the same for a model and its twin. */
function setSameWeights(models: readonly tfl.LayersModel[], seed: number, scale: number): tf.Tensor[] {
  const random = prng(seed);
  const weights = models[0]!.getWeights().map((w) => tf.tensor(Float32Array.from(uniform(random, w.size, scale)), w.shape));
  for (const model of models) model.setWeights(weights);
  return weights;
}

function sequenceModel(head: 'softmax' | 'linear'): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.conv1d({ inputShape: [...SEQUENCE.input], filters: 5, kernelSize: 3, padding: 'same', activation: 'tanh' }));
  model.add(tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: SEQUENCE.classes, activation: head }) }));
  return model;
}

function denseModel(head: boolean, tag: string): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(
    tfl.layers.conv2d({
      inputShape: [...DENSE.input],
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      name: `${tag}_features`,
    }),
  );
  model.add(tfl.layers.conv2d({ filters: DENSE.classes, kernelSize: 1, name: `${tag}_scores` }));
  if (head) model.add(tfl.layers.activation({ activation: 'sigmoid' }));
  return model;
}

/** The dense net as a converter GraphModel: Conv2D, BiasAdd, Relu, Conv2D, BiasAdd, Sigmoid, Identity; its output's shape undeclared. */
function denseGraphModel(weights: readonly tf.Tensor[]) {
  const graph = new GraphDefBuilder();
  const geometry = {
    strides: attrs.ints([1, 1, 1, 1]),
    padding: attrs.string('SAME'),
    data_format: attrs.string('NHWC'),
    dilations: attrs.ints([1, 1, 1, 1]),
  };
  const [k1, b1, k2, b2] = weights.map((w) => ({ shape: w.shape, values: w.dataSync() }));
  let value = graph.placeholder('x', [-1, ...DENSE.input]);
  value = graph.op('features', 'Conv2D', [value, graph.constant('features/kernel', k1!.shape, k1!.values)], geometry);
  value = graph.op('features/BiasAdd', 'BiasAdd', [value, graph.constant('features/bias', b1!.shape, b1!.values)]);
  value = graph.op('features/Relu', 'Relu', [value]);
  value = graph.op('scores', 'Conv2D', [value, graph.constant('scores/kernel', k2!.shape, k2!.values)], geometry);
  value = graph.op('scores/BiasAdd', 'BiasAdd', [value, graph.constant('scores/bias', b2!.shape, b2!.values)]);
  graph.op('Identity', 'Identity', [graph.op('probabilities', 'Sigmoid', [value])]);
  return graph.load();
}

function makeCases(): Case[] {
  const sequence = sequenceModel('softmax');
  const sequenceTwin = sequenceModel('linear');
  tf.dispose(setSameWeights([sequence, sequenceTwin], 11, 0.8));
  const dense = denseModel(true, 'layers');
  const denseTwin = denseModel(false, 'twin');
  const weights = setSameWeights([dense, denseTwin], 12, 0.7);
  const graph = denseGraphModel(weights);
  tf.dispose(weights);
  const densePositions: Case['positions'] = [
    { position: [2, 3, null], targets: [0, 1] },
    { position: [[1, 4], [2, 5], null], targets: [1, 1] },
  ];
  const denseLayer = (name: string) => ({
    name,
    activation: (x: tf.Tensor) => denseTwin.layers[0]!.apply(x) as tf.Tensor,
    logitsFrom: (a: tf.Tensor) => denseTwin.layers[1]!.apply(a) as tf.Tensor,
  });
  return [
    {
      name: 'sequence LayersModel',
      model: sequence,
      twin: sequenceTwin,
      inputShape: [BATCH, ...SEQUENCE.input],
      positions: [
        { position: [4, null], targets: [1, 3] },
        { position: [[2, 7], null], targets: [2, 0] },
      ],
    },
    {
      name: 'dense LayersModel',
      model: dense,
      twin: denseTwin,
      inputShape: [BATCH, ...DENSE.input],
      positions: densePositions,
      layer: denseLayer('layers_features'),
    },
    {
      name: 'dense GraphModel',
      model: graph,
      twin: denseTwin,
      inputShape: [BATCH, ...DENSE.input],
      positions: densePositions,
      layer: denseLayer('features/Relu'),
    },
  ];
}

/** Each axis's [start, end) of `position`: an index as a range of one, undefined for the class axis. */
function rangesOf(position: OutputPosition): Array<readonly [number, number] | undefined> {
  return position.map((entry) => (entry === null ? undefined : typeof entry === 'number' ? [entry, entry + 1] : entry));
}

/**
 * The [B, K] values at `position` as a weighted sum (not the backend's
 * slice): the output times a mask that holds 1/n on the n positions of the
 * index or box and 0 elsewhere, summed over every axis but the batch and
 * class axes.
 */
function gathered(output: tf.Tensor, position: OutputPosition): tf.Tensor {
  const classAxis = position.indexOf(null) + 1;
  const maskShape = output.shape.map((size, axis) => (axis === 0 || axis === classAxis ? 1 : size));
  const mask = tf.buffer(maskShape);
  const ranges = rangesOf(position).map((range) => range ?? [0, 1]);
  const count = ranges.reduce((n, [start, end]) => n * (end - start), 1);
  const fill = (axis: number, at: number[]): void => {
    if (axis > position.length) {
      mask.set(1 / count, ...at);
      return;
    }
    const [start, end] = ranges[axis - 1]!;
    for (let i = start; i < end; i++) fill(axis + 1, [...at, i]);
  };
  fill(1, [0]);
  const summed = output.shape.map((_, axis) => axis).filter((axis) => axis !== 0 && axis !== classAxis);
  return tf.sum(tf.mul(output, mask.toTensor()), summed);
}

/** Σ_r selected[r, targets[r]]: its gradient is each row's. */
function targetSum(selected: tf.Tensor, targets: readonly number[]): tf.Tensor {
  const classes = selected.shape[1]!;
  return tf.sum(tf.mul(selected, tf.tensor2d(oneHotRows(Int32Array.from(targets), classes), [targets.length, classes])));
}

/** The same sum on the host from the twin's `predict` output (channels last, class axis last). */
function hostTargetSum(output: Float32Array, shape: readonly number[], position: OutputPosition, targets: readonly number[]): number {
  const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  const ranges = rangesOf(position);
  let total = 0;
  targets.forEach((target, row) => {
    let sum = 0;
    let count = 0;
    const visit = (axis: number, offset: number): void => {
      if (axis === shape.length) {
        sum += output[offset]!;
        count++;
        return;
      }
      const range = ranges[axis - 1];
      const [start, end] = range ?? [target, target + 1];
      for (let i = start; i < end; i++) visit(axis + 1, offset + i * strides[axis]!);
    };
    visit(1, row * strides[0]!);
    total += sum / count;
  });
  return total;
}

function input(shape: readonly number[], seed: number): HostTensor {
  return hostTensor(
    Float32Array.from(
      uniform(
        prng(seed),
        shape.reduce((a, b) => a * b, 1),
        1,
      ),
    ),
    shape,
  );
}

function referenceGradient(twin: tfl.LayersModel, x: HostTensor, position: OutputPosition, targets: readonly number[]) {
  return tf.tidy(() => {
    const logits = gathered(twin.predict(tf.tensor(x.data, [...x.shape])) as tf.Tensor, position);
    const gradient = tf.grad((v: tf.Tensor) => targetSum(gathered(twin.apply(v) as tf.Tensor, position), targets))(
      tf.tensor(x.data, [...x.shape]),
    );
    return { logits: logits.dataSync().slice(), gradient: gradient.dataSync().slice() };
  });
}

/**
 * `compute` run on tfjs-cpu, then the backend in use before restored: the
 * references' own autodiff also takes the weights' gradients of the
 * convolutions, which tfjs-wasm lacks.
 */
async function onCpu<T>(compute: () => T | Promise<T>): Promise<T> {
  const current = tf.getBackend() as BackendName;
  await useBackend('cpu');
  try {
    return await compute();
  } finally {
    await useBackend(current);
  }
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i]!, 0);
const xTimes = (x: HostTensor, g: ArrayLike<number>) => Array.from(x.data, (v, i) => v * g[i]!);

describe.each(BACKENDS)('outputPosition on tfjs-%s', (backendName) => {
  let cases: Case[] = [];
  beforeAll(async () => {
    await useBackend(backendName);
    cases = makeCases();
  });

  describe.each([0, 1, 2])('model %i', (index) => {
    it.each([0, 1])('at its position %i: logits and gradient equal tf.grad of the twin gathered there', async (p) => {
      const c = cases[index]!;
      const { position, targets } = c.positions[p]!;
      const x = input(c.inputShape, 100 + index);
      const backend = createTfjsBackend(c.model, { outputPosition: position });
      const reference = await onCpu(() => referenceGradient(c.twin, x, position, targets));
      const logits = await backend.logits(x);
      expect(logits.shape, c.name).toEqual([BATCH, c.twin.outputs[0]!.shape.at(-1)]);
      expectClose(logits.data, reference.logits, 1e-5, `${c.name} logits`);
      expectClose((await backend.gradients(x, Int32Array.from(targets))).data, reference.gradient, 1e-5, `${c.name} gradient`);
      expect(backend.description).toMatch(/without its final .* at position \[/);
    });

    it.each([0, 1])('at its position %i: the gradient agrees with central differences of the twin’s predict in float32', async (p) => {
      const c = cases[index]!;
      const { position, targets } = c.positions[p]!;
      const x = input(c.inputShape, 200 + index);
      const backend = createTfjsBackend(c.model, { outputPosition: position });
      const gradient = (await backend.gradients(x, Int32Array.from(targets))).data;
      const other = c.positions[1 - p]!.position;
      const elsewhere = (await createTfjsBackend(c.model, { outputPosition: other }).gradients(x, Int32Array.from(targets))).data;
      const f = (values: Float32Array): number => {
        const out = tf.tidy(() => c.twin.predict(tf.tensor(values, [...x.shape])) as tf.Tensor);
        const sum = hostTargetSum(out.dataSync() as Float32Array, out.shape, position, targets);
        out.dispose();
        return sum;
      };
      // float32: unit roundoff u = 2⁻²⁴. f is a few sums of at most 18 products
      // per value, so its rounding error is within δ = 64·u·max(1, |f|). The
      // central difference D(h) errs by δ/h from rounding and O(h²) from
      // truncation, which |D(h) − D(2h)| bounds (three times it, up to
      // rounding); h = u^(1/3) balances the two, for a direction of entries in
      // [-1, 1]. Where the two steps disagree by more than rounding explains, a
      // step crossed a ReLU's kink (the dense net): it is halved, at most three times.
      const u = 2 ** -24;
      const random = prng(300 + index * 10 + p);
      for (let trial = 0; trial < 3; trial++) {
        const d = uniform(random, x.data.length, 1);
        const step = (s: number) => Float32Array.from(x.data, (v, i) => v + s * d[i]!);
        const central = (s: number) => (f(step(s)) - f(step(-s))) / (2 * s);
        const delta = 64 * u * Math.max(1, Math.abs(f(x.data)));
        let h = Math.cbrt(u);
        let estimate = central(h);
        let disagreement = Math.abs(estimate - central(2 * h));
        for (let halving = 0; halving < 3 && disagreement > delta / h; halving++) {
          const half = central(h / 2);
          disagreement = Math.abs(half - estimate);
          estimate = half;
          h /= 2;
        }
        const tolerance = delta / h + disagreement;
        const analytic = dot(gradient, d);
        expect(
          Math.abs(analytic - estimate),
          `${c.name} direction ${trial}: ${analytic} vs ${estimate} ± ${tolerance}`,
        ).toBeLessThanOrEqual(tolerance);
        // The check can fail: the sign-flipped gradient, and the gradient at the other position, are outside it.
        expect(Math.abs(-analytic - estimate)).toBeGreaterThan(tolerance);
        expect(Math.abs(dot(elsewhere, d) - estimate)).toBeGreaterThan(tolerance);
      }
    });
  });

  it('every method explains the selected logits: the maps of a function that gathers the twin’s output there', async () => {
    for (const c of cases) {
      for (const { position, targets } of c.positions) {
        const x = input(c.inputShape, 400);
        const backend = createTfjsBackend(c.model, { outputPosition: position });
        const explicit = createTfjsBackend((v: tf.Tensor) => gathered(c.twin.apply(v) as tf.Tensor, position));
        const options = { target: targets, numSamples: 4, noiseScale: 0.2, seed: 3, steps: 8 };
        for (const method of ['gradient', 'gradient_x_input', 'smoothgrad', 'vargrad', 'integrated_gradients', 'guided_backprop']) {
          const expected = await onCpu(async () => (await explain(explicit, method, x, options)).data);
          const actual = (await explain(backend, method, x, options)).data;
          if (maxAbs(expected) === 0) expect(maxAbs(actual), `${c.name} ${method}`).toBe(0);
          else expectClose(actual, expected, 1e-5, `${c.name} ${method} at ${JSON.stringify(position)}`);
        }
      }
    }
  });

  it('Grad-CAM: the layer gradient is tf.grad of the position gathered from the twin’s layers, channels first', async () => {
    for (const c of cases.filter((k) => k.layer !== undefined)) {
      for (const { position, targets } of c.positions) {
        const x = input(c.inputShape, 500);
        const backend = createTfjsBackend(c.model, { outputPosition: position });
        const got = await backend.layerGradients(x, Int32Array.from(targets), c.layer!.name);
        const expected = await onCpu(() =>
          tf.tidy(() => {
            const a = c.layer!.activation(tf.tensor(x.data, [...x.shape]));
            const g = tf.grad((v: tf.Tensor) => targetSum(gathered(c.layer!.logitsFrom(v), position), targets))(a);
            return [tf.transpose(a, [0, 3, 1, 2]).dataSync().slice(), tf.transpose(g, [0, 3, 1, 2]).dataSync().slice()];
          }),
        );
        expectClose(got.activation.data, expected[0]!, 1e-5, `${c.name} activation`);
        expectClose(got.gradient.data, expected[1]!, 1e-5, `${c.name} layer gradient`);
        expect((await explain(backend, 'grad_cam', x, { target: targets, layer: c.layer!.name })).data.some((v) => v !== 0)).toBe(true);
      }
    }
  });

  it('LRP: on the Conv–ReLU–Conv net the z-rule passes the gradient through the selection (x ⊙ ∇); the sequence’s TimeDistributed is refused', async () => {
    for (const c of cases) {
      for (const { position, targets } of c.positions) {
        const x = input(c.inputShape, 600);
        const backend = createTfjsBackend(c.model, { outputPosition: position });
        if (c.layer === undefined) {
          const error = await explain(backend, 'lrp_z', x, { target: targets }).catch((e: unknown) => e);
          expect((error as AttributionError).code).toBe('UNSUPPORTED_MODEL');
          expect((error as AttributionError).message).toMatch(/TimeDistributed/);
          continue;
        }
        const { gradient } = await onCpu(() => referenceGradient(c.twin, x, position, targets));
        expectClose((await explain(backend, 'lrp_z', x, { target: targets })).data, xTimes(x, gradient), 1e-5, `${c.name} lrp_z`);
        // ε-LRP's backward pass is linear in the relevance it starts from: over a range the mean shares it in
        // proportion, so the map of a box is the mean of the maps of its pixels.
        const [rows, columns] = position;
        if (!Array.isArray(rows) || !Array.isArray(columns)) continue;
        const epsilon = async (at: OutputPosition) =>
          (await explain(createTfjsBackend(c.model, { outputPosition: at }), 'lrp_epsilon_0_1', x, { target: targets })).data;
        const pixels: Float32Array[] = [];
        for (let y = rows[0]; y < rows[1]; y++) {
          for (let w = columns[0]; w < columns[1]; w++) pixels.push(await epsilon([y, w, null]));
        }
        const mean = pixels[0]!.map((_, i) => pixels.reduce((sum, map) => sum + map[i]!, 0) / pixels.length);
        expectClose(await epsilon(position), mean, 1e-5, `${c.name} lrp_epsilon_0_1 of the box`);
      }
    }
  });

  it('leaves no tensor behind: logits, gradients, moments, layer gradients and LRP at a position', async () => {
    for (const c of cases) {
      const { position, targets } = c.positions[1]!;
      const x = input(c.inputShape, 800);
      const t = Int32Array.from(targets);
      const backend = createTfjsBackend(c.model, { outputPosition: position });
      const calls = async () => {
        await backend.logits(x);
        await backend.gradients(x, t);
        await backend.gradientMoments(x, t, 2);
        if (c.layer !== undefined) {
          await backend.layerGradients(x, t, c.layer.name);
          await backend.gradients(x, t, { backward: 'lrp_epsilon_0_1' });
        }
      };
      await calls();
      const before = tf.memory().numTensors;
      await calls();
      expect(tf.memory().numTensors, c.name).toBe(before);
    }
  });

  it("with softmax: 'keep' the position holds the model's probabilities", async () => {
    for (const c of cases.slice(0, 2)) {
      const { position } = c.positions[0]!;
      const x = input(c.inputShape, 700);
      const logits = await createTfjsBackend(c.model, { outputPosition: position, softmax: 'keep' }).logits(x);
      const expected = tf.tidy(() =>
        gathered((c.model as tfl.LayersModel).predict(tf.tensor(x.data, [...x.shape])) as tf.Tensor, position)
          .dataSync()
          .slice(),
      );
      expectClose(logits.data, expected, 1e-6, c.name);
    }
  });
});

describe('outputPosition is checked before any work', () => {
  let sequence: tfl.LayersModel;
  let graph: ReturnType<typeof denseGraphModel>;
  beforeAll(async () => {
    await useBackend('cpu');
    sequence = sequenceModel('softmax');
    const dense = denseModel(false, 'checked');
    graph = denseGraphModel(dense.getWeights());
  });

  const refusal = async (call: () => Promise<unknown>): Promise<AttributionError> => {
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AttributionError);
    return error as AttributionError;
  };

  // Every form the check refuses is core's test (packages/core/test/output-position.test.ts); here, that this backend
  // checks the fit against the shape the LayersModel declares when it is made.
  it.each([
    ['too few entries', [null], /has 1 entry for an output of 2 axes after the batch axis \(shape \[B, 12, 4\]\)/],
    ['an index past the axis', [12, null], /has index 12 at axis 1 of size 12: allowed are 0 … 11/],
    ['a range past the axis', [[10, 13], null], /has range \[10, 13\) at axis 1 of size 12: allowed are ranges inside \[0, 12\)/],
    ['no class axis marked', [0, 4], /must hold exactly one null/],
  ])('on the sequence LayersModel [B, 12, 4], when the backend is made: %s', async (_, position, message) => {
    const error = await refusal(async () => createTfjsBackend(sequence, { outputPosition: position as OutputPosition }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(/^createTfjsBackend: option outputPosition /);
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/it takes one entry per output axis after the batch axis: an index \(integer ≥ 0\), a range/);
  });

  it('its form before the model is read: a function is refused the same way', () => {
    expect(() => createTfjsBackend((x) => x, { outputPosition: [1, 2] })).toThrow(
      /^createTfjsBackend: option outputPosition must hold exactly one null/,
    );
  });

  it('where the output’s shape is not declared (this GraphModel), at the first call, naming the axis and its size', async () => {
    const backend = createTfjsBackend(graph, { outputPosition: [6, 0, null] });
    const error = await refusal(() => backend.gradients(input([1, ...DENSE.input], 1), Int32Array.from([0])));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(
      /^GraphModel without its final Sigmoid \(probabilities\): option outputPosition has index 6 at axis 1 of size 6: allowed are 0 … 5/,
    );
  });

  it('without it, a sequence output is refused naming the option', async () => {
    const error = await refusal(() => createTfjsBackend(sequence).logits(input([2, ...SEQUENCE.input], 1)));
    expect(error.code).toBe('BACKEND_OUTPUT');
    expect(error.message).toMatch(
      /returned a tensor of shape \[2, 12, 4\] for 2 rows; expected logits of shape \[2, K\]; to explain one position of a sequence or dense output, pass the option outputPosition, e\.g\. \[0, :\] as \[0,null\]/,
    );
  });
});
