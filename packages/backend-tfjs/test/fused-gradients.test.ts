import { beforeAll, describe, expect, it } from 'vitest';
import { centralDifferenceGradient } from '@saliency/core/reference';
import { depthwiseInputGradient } from '../src/depthwise-input-gradient.js';
import { withGradientPass } from '../src/gradient-pass.js';
import { tf, useBackend, type BackendName } from './helpers/tfjs-setup.js';
import { expectClose, maxAbs, maxAbsError } from './helpers/compare.js';
import { prng, uniform } from './helpers/prng.js';
import {
  biasActivate64,
  conv2d64,
  FUSED_ACTIVATIONS,
  LEAKY_ALPHA,
  matMul64,
  weightedSum,
  type ConvGeometry,
  type FusedActivation,
} from './helpers/float64-fused.js';

/*
 * Input gradients of TF.js's fused conv2d, depthwise conv2d and matMul, with
 * and without bias, for every fused activation, as our gradient pass computes
 * them (on wasm with the depthwise input-gradient kernel we supply), against
 * central finite differences of float64 versions and against tfjs-cpu's own
 * kernels.
 */

type FusedOp = 'conv2d' | 'depthwiseConv2d' | 'matMul';

interface FusedCase {
  readonly op: FusedOp;
  readonly activation: FusedActivation;
  readonly bias: boolean;
  readonly geometry: ConvGeometry;
}

const GEOMETRIES: ConvGeometry[] = [
  { strides: [1, 1], padding: 'same' },
  { strides: [2, 2], padding: 'same' },
  { strides: [2, 1], padding: 'valid' },
];

const CASES: FusedCase[] = (['conv2d', 'depthwiseConv2d', 'matMul'] as const).flatMap((op, o) =>
  FUSED_ACTIVATIONS.flatMap((activation, a) =>
    [true, false].map((bias, b) => ({ op, activation, bias, geometry: GEOMETRIES[(o + a + b) % GEOMETRIES.length]! })),
  ),
);

const X_SHAPE = { conv: [2, 6, 5, 3], matMul: [3, 7] } as const;
const FILTER = [3, 3] as const;
const MULTIPLIER = 2;
const UNITS = 4;

/** The random operands of one case, seeded by its index. */
function operands(testCase: FusedCase, seed: number) {
  const random = prng(seed);
  const conv = testCase.op !== 'matMul';
  const xShape = conv ? X_SHAPE.conv : X_SHAPE.matMul;
  const inC = xShape[xShape.length - 1]!;
  const wShape = testCase.op === 'matMul' ? [inC, UNITS] : [...FILTER, inC, testCase.op === 'conv2d' ? UNITS : MULTIPLIER];
  const outC = testCase.op === 'depthwiseConv2d' ? inC * MULTIPLIER : UNITS;
  // Wide enough that relu6 saturates and the negative side of every activation is reached.
  const x = uniform(
    random,
    xShape.reduce((p, d) => p * d, 1),
    3,
  );
  return {
    xShape,
    x,
    wShape,
    w: uniform(
      random,
      wShape.reduce((p, d) => p * d, 1),
      1,
    ),
    outC,
    bias: testCase.bias ? uniform(random, outC, 1) : undefined,
    alpha: uniform(random, outC, 0.5),
  };
}

type Operands = ReturnType<typeof operands>;

function forward64(testCase: FusedCase, o: Operands) {
  return (x: Float64Array): Float64Array => {
    const z =
      testCase.op === 'matMul'
        ? matMul64(x, o.xShape, o.w, UNITS)
        : conv2d64(x, o.xShape, o.w, o.wShape, testCase.geometry, testCase.op === 'depthwiseConv2d').y;
    return biasActivate64(z, o.outC, o.bias, testCase.activation, o.alpha);
  };
}

function fusedTf(testCase: FusedCase, o: Operands, x: tf.Tensor): tf.Tensor {
  const common = {
    ...(o.bias && { bias: tf.tensor1d(Float32Array.from(o.bias)) }),
    activation: testCase.activation,
    ...(testCase.activation === 'prelu' && { preluActivationWeights: tf.tensor1d(Float32Array.from(o.alpha)) }),
    leakyreluAlpha: LEAKY_ALPHA,
  };
  const w = tf.tensor(Float32Array.from(o.w), o.wShape);
  if (testCase.op === 'matMul') return tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, ...common });
  const conv = {
    x: x as tf.Tensor4D,
    filter: w as tf.Tensor4D,
    strides: [...testCase.geometry.strides] as [number, number],
    pad: testCase.geometry.padding,
    ...common,
  };
  return testCase.op === 'conv2d' ? tf.fused.conv2d(conv) : tf.fused.depthwiseConv2d(conv);
}

async function tfGradient(testCase: FusedCase, o: Operands, r: Float64Array): Promise<Float32Array> {
  const g = withGradientPass(true, () =>
    tf.tidy(() => {
      const weights = tf.tensor(Float32Array.from(r));
      const objective = (x: tf.Tensor) => tf.sum(tf.mul(tf.reshape(fusedTf(testCase, o, x), [-1]), weights));
      return tf.grad(objective)(tf.tensor(Float32Array.from(o.x), [...o.xShape]));
    }),
  );
  const values = await g.data<'float32'>();
  g.dispose();
  return values;
}

function label({ op, activation, bias, geometry }: FusedCase): string {
  const where = op === 'matMul' ? '' : `, strides ${geometry.strides.join('x')} ${geometry.padding}`;
  return `${op} + ${activation}${bias ? ' + bias' : ''}${where}`;
}

describe('fused op input gradients, against finite differences and tfjs-cpu', () => {
  const cpuGradients = new Map<string, Float32Array>();

  describe.each(['cpu', 'wasm'] satisfies BackendName[])('on %s', (backendName) => {
    beforeAll(() => useBackend(backendName));

    it.each(CASES.map((c, i) => [label(c), c, i] as const))('%s', async (name, testCase, index) => {
      const o = operands(testCase, 100 + index);
      const f64 = forward64(testCase, o);
      const r = uniform(prng(7 + index), f64(o.x).length, 1);
      const before = tf.memory().numTensors;
      const g = await tfGradient(testCase, o, r);
      expect(tf.memory().numTensors).toBe(before);
      expectClose(g, centralDifferenceGradient(weightedSum(r, f64), o.x, 0), 1e-4, name);
      if (backendName === 'cpu') cpuGradients.set(name, g);
      else expect(maxAbsError(g, cpuGradients.get(name)!)).toBeLessThanOrEqual(1e-5 * maxAbs(g));
    });
  });
});

interface DepthwiseCase {
  readonly shape: [number, number, number, number];
  readonly filter: [number, number, number, number];
  readonly geometry: ConvGeometry & { dilations: [number, number] };
}

const DEPTHWISE_CASES: DepthwiseCase[] = [
  { shape: [2, 6, 5, 3], filter: [3, 3, 3, 1], geometry: { strides: [1, 1], padding: 'same', dilations: [1, 1] } },
  { shape: [2, 7, 6, 2], filter: [3, 3, 2, 1], geometry: { strides: [2, 2], padding: 'same', dilations: [1, 1] } },
  { shape: [1, 8, 8, 2], filter: [3, 3, 2, 2], geometry: { strides: [2, 2], padding: 'same', dilations: [1, 1] } },
  { shape: [2, 7, 5, 3], filter: [2, 3, 3, 2], geometry: { strides: [2, 1], padding: 'valid', dilations: [1, 1] } },
  { shape: [1, 9, 9, 2], filter: [5, 5, 2, 1], geometry: { strides: [2, 2], padding: 'valid', dilations: [1, 1] } },
  { shape: [1, 7, 7, 2], filter: [3, 3, 2, 1], geometry: { strides: [1, 1], padding: 'same', dilations: [2, 2] } },
  { shape: [1, 8, 7, 1], filter: [3, 2, 1, 3], geometry: { strides: [1, 1], padding: 'valid', dilations: [2, 1] } },
];

describe.each(['cpu', 'wasm'] satisfies BackendName[])('depthwise input gradient from generic ops on %s', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it.each(DEPTHWISE_CASES.map((c, i) => [JSON.stringify(c), c, i] as const))('%s', async (_, testCase, index) => {
    const random = prng(300 + index);
    const x = uniform(
      random,
      testCase.shape.reduce((p, d) => p * d, 1),
      1,
    );
    const w = uniform(
      random,
      testCase.filter.reduce((p, d) => p * d, 1),
      1,
    );
    const { y, shape: yShape } = conv2d64(x, testCase.shape, w, testCase.filter, testCase.geometry, true);
    const dy = uniform(random, y.length, 1);
    const forward = (input: Float64Array) => conv2d64(input, testCase.shape, w, testCase.filter, testCase.geometry, true).y;
    const expected = centralDifferenceGradient(weightedSum(dy, forward), x, 0);

    const dyT = tf.tensor4d(Float32Array.from(dy), yShape);
    const filterT = tf.tensor4d(Float32Array.from(w), testCase.filter);
    const { strides, padding, dilations } = testCase.geometry;
    const dx = depthwiseInputGradient(dyT, filterT, { inputShape: testCase.shape, strides: [...strides], pad: padding, dilations });
    expectClose(await dx.data(), expected, 1e-5, 'supplied');
    tf.dispose([dyT, filterT, dx]);
  });
});

describe('supplied kernels', () => {
  it('are registered on wasm, which lacks them, only for the duration of our pass', async () => {
    await useBackend('wasm');
    const kernelName = 'DepthwiseConv2dNativeBackpropInput';
    expect(tf.getKernel(kernelName, 'wasm')).toBeUndefined();
    expect(withGradientPass(true, () => tf.getKernel(kernelName, 'wasm'))).toBeDefined();
    expect(() =>
      withGradientPass(true, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(tf.getKernel(kernelName, 'wasm')).toBeUndefined();
  });

  it("leave a backend's own kernel in place", async () => {
    await useBackend('cpu');
    const own = tf.getKernel('DepthwiseConv2dNativeBackpropInput', 'cpu');
    expect(own).toBeDefined();
    expect(withGradientPass(true, () => tf.getKernel('DepthwiseConv2dNativeBackpropInput', 'cpu'))).toBe(own);
  });
});
