import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { AttributionError, type HostTensor } from '@saliency/core';
import { centralDifferenceGradient } from '@saliency/core/reference';
import { createTfjsBackend, type TfjsModel } from '../src/index.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';
import { float64Model } from './helpers/float64-model.js';
import { example, layersModel, mlpSpec, randomInput } from './helpers/test-models.js';
import { denseGraphModel } from './helpers/graph-model.js';
import { expectClose } from './helpers/compare.js';

const TARGETS = Int32Array.from([2, 0, 3]);

/** Row-wise float64 central-difference gradients of `logits` for a batch. */
function finiteDifferences(logits: (e: Float64Array) => Float64Array, x: HostTensor, targets: Int32Array): Float64Array {
  const rows = x.shape[0]!;
  const size = x.data.length / rows;
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < rows; r++) out.set(centralDifferenceGradient(logits, example(x, r), targets[r]!, 1e-6), r * size);
  return out;
}

/** The linear MLP with a final softmax layer of the given kind appended. */
function withSoftmaxLayer(kind: 'activation' | 'softmax-layer' | 'log-softmax'): tfl.LayersModel {
  const base = layersModel(mlpSpec());
  const input = tfl.input({ shape: [6] });
  const logits = base.apply(input) as tfl.SymbolicTensor;
  const last =
    kind === 'softmax-layer'
      ? tfl.layers.softmax()
      : // tfjs-layers runs 'logSoftmax' but leaves it out of its identifier type.
        tfl.layers.activation({ activation: (kind === 'log-softmax' ? 'logSoftmax' : 'softmax') as 'softmax' });
  return tfl.model({ inputs: input, outputs: last.apply(logits) as tfl.SymbolicTensor });
}

describe.each(BACKENDS)('softmax handling on %s', (backendName) => {
  beforeAll(() => useBackend(backendName));

  const x = randomInput(mlpSpec(), 3, 31);
  const logitGradients = finiteDifferences(float64Model(mlpSpec()).logits, x, TARGETS);
  const softmaxGradients = finiteDifferences(float64Model(mlpSpec(1, 'softmax')).logits, x, TARGETS);

  it('the reference gradients of logits and of softmax differ', () => {
    expect(Math.max(...logitGradients.map((v, i) => Math.abs(v - softmaxGradients[i]!)))).toBeGreaterThan(0.05);
  });

  it('Dense(activation softmax) last: gradients of the logits, as the same model with a linear Dense', async () => {
    const backend = createTfjsBackend(layersModel(mlpSpec(1, 'softmax')));
    expect(backend.description).toContain('without its final softmax');
    const g = await backend.gradients(x, TARGETS);
    expectClose(g.data, logitGradients, 1e-4, 'stripped');
    const linear = await createTfjsBackend(layersModel(mlpSpec(1, 'linear'))).gradients(x, TARGETS);
    expectClose(g.data, linear.data, 1e-6, 'vs linear model');
    // logits() are stripped too.
    const logits = await backend.logits(x);
    expectClose(logits.data.subarray(0, 4), float64Model(mlpSpec()).logits(example(x, 0)), 1e-5, 'logits');
  });

  it("softmax: 'keep' differentiates the softmax output", async () => {
    const backend = createTfjsBackend(layersModel(mlpSpec(1, 'softmax')), { softmax: 'keep' });
    const g = await backend.gradients(x, TARGETS);
    expectClose(g.data, softmaxGradients, 1e-4, 'kept');
  });

  it.each(['activation', 'softmax-layer', 'log-softmax'] as const)('a final %s layer is stripped', async (kind) => {
    const backend = createTfjsBackend(withSoftmaxLayer(kind));
    expectClose((await backend.gradients(x, TARGETS)).data, logitGradients, 1e-4, kind);
  });

  it("a final softmax Activation layer is kept with softmax: 'keep'", async () => {
    const backend = createTfjsBackend(withSoftmaxLayer('activation'), { softmax: 'keep' });
    expectClose((await backend.gradients(x, TARGETS)).data, softmaxGradients, 1e-4, 'kept');
  });

  it('a softmax that cannot be removed is an error that names the ways out', () => {
    const inner = layersModel(mlpSpec(1, 'softmax'));
    const input = tfl.input({ shape: [6] });
    const nested = tfl.model({ inputs: input, outputs: inner.apply(input) as tfl.SymbolicTensor });
    expect(() => createTfjsBackend(nested)).toThrow(AttributionError);
    expect(() => createTfjsBackend(nested)).toThrow(/softmax: 'keep'.*|function/);
    expect(() => createTfjsBackend(nested, { softmax: 'keep' })).not.toThrow();
  });

  it('rejects an unknown softmax option', () => {
    expect(() => createTfjsBackend(layersModel(mlpSpec()), { softmax: 'drop' as 'keep' })).toThrow(/'strip' or 'keep'/);
  });

  describe('a final sigmoid on [B, K] (a probability head)', () => {
    const sigmoidGradients = finiteDifferences(float64Model(mlpSpec(1, 'sigmoid')).logits, x, TARGETS);

    it('the reference gradients of logits and of sigmoid differ', () => {
      expect(Math.max(...logitGradients.map((v, i) => Math.abs(v - sigmoidGradients[i]!)))).toBeGreaterThan(0.05);
    });

    it('Dense(activation sigmoid) last: gradients and logits of the logits', async () => {
      const backend = createTfjsBackend(layersModel(mlpSpec(1, 'sigmoid')));
      expect(backend.description).toContain('without its final sigmoid');
      expectClose((await backend.gradients(x, TARGETS)).data, logitGradients, 1e-4, 'stripped');
      expectClose((await backend.logits(x)).data.subarray(0, 4), float64Model(mlpSpec()).logits(example(x, 0)), 1e-5, 'logits');
    });

    it('an Activation(sigmoid) layer last is stripped', async () => {
      const input = tfl.input({ shape: [6] });
      const logits = layersModel(mlpSpec()).apply(input) as tfl.SymbolicTensor;
      const model = tfl.model({
        inputs: input,
        outputs: tfl.layers.activation({ activation: 'sigmoid' }).apply(logits) as tfl.SymbolicTensor,
      });
      expectClose((await createTfjsBackend(model).gradients(x, TARGETS)).data, logitGradients, 1e-4, 'activation');
    });

    it("softmax: 'keep' differentiates the sigmoid output", async () => {
      const backend = createTfjsBackend(layersModel(mlpSpec(1, 'sigmoid')), { softmax: 'keep' });
      expectClose((await backend.gradients(x, TARGETS)).data, sigmoidGradients, 1e-4, 'kept');
    });

    it('a GraphModel ending in Sigmoid → Identity: differentiated before it, or kept with the option', async () => {
      const model = denseGraphModel(mlpSpec(), 'Sigmoid');
      const stripped = createTfjsBackend(model);
      expect(stripped.description).toContain('Sigmoid');
      expectClose((await stripped.gradients(x, TARGETS)).data, logitGradients, 1e-4, 'graph stripped');
      const kept = createTfjsBackend(model as TfjsModel, { softmax: 'keep' });
      expectClose((await kept.gradients(x, TARGETS)).data, sigmoidGradients, 1e-4, 'graph kept');
      model.dispose();
    });
  });

  describe('GraphModel (in-memory GraphDef)', () => {
    it('ending in Softmax → Identity: differentiated before the Softmax', async () => {
      const model = denseGraphModel(mlpSpec(), true);
      const backend = createTfjsBackend(model);
      expect(backend.description).toContain('Softmax');
      expect(backend.inputShape).toEqual([null, 6]);
      expectClose((await backend.gradients(x, TARGETS)).data, logitGradients, 1e-4, 'graph stripped');
      const logits = await backend.logits(x);
      expectClose(logits.data.subarray(4, 8), float64Model(mlpSpec()).logits(example(x, 1)), 1e-5, 'graph logits');
      model.dispose();
    });

    it("softmax: 'keep' differentiates the Softmax output", async () => {
      const model = denseGraphModel(mlpSpec(), true);
      const backend = createTfjsBackend(model as TfjsModel, { softmax: 'keep' });
      expectClose((await backend.gradients(x, TARGETS)).data, softmaxGradients, 1e-4, 'graph kept');
      model.dispose();
    });

    it('without a softmax: run as it is', async () => {
      const model = denseGraphModel(mlpSpec(), false);
      const before = tf.memory().numTensors;
      const backend = createTfjsBackend(model);
      expectClose((await backend.gradients(x, TARGETS)).data, logitGradients, 1e-4, 'graph');
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  });
});
