import { beforeAll, describe, expect, it } from 'vitest';
import { firstMaxPoolGradient, withGradientRules } from '../src/index.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';
import { windowGeometry, type Padding } from './helpers/float64-model.js';
import { prng } from './helpers/prng.js';
import { expectClose, maxAbsError } from './helpers/compare.js';

/** Plain-JS routing of `dy` over NHWC windows to the first (or last) maximum, in float64. */
function maxRouting(
  x: Float32Array,
  [n, h, w, c]: readonly number[] & { length: 4 },
  [fh, fw]: readonly [number, number],
  [sh, sw]: readonly [number, number],
  padding: Padding,
  dy: Float32Array,
  which: 'first' | 'last' = 'first',
): Float64Array {
  const gh = windowGeometry(h!, fh, sh, padding);
  const gw = windowGeometry(w!, fw, sw, padding);
  const dx = new Float64Array(x.length);
  for (let b = 0; b < n!; b++)
    for (let oy = 0; oy < gh.out; oy++)
      for (let ox = 0; ox < gw.out; ox++)
        for (let ch = 0; ch < c!; ch++) {
          let best = -Infinity;
          let at = -1;
          for (let ky = 0; ky < fh; ky++)
            for (let kx = 0; kx < fw; kx++) {
              const iy = oy * sh + ky - gh.before;
              const ix = ox * sw + kx - gw.before;
              if (iy < 0 || iy >= h! || ix < 0 || ix >= w!) continue;
              const index = ((b * h! + iy) * w! + ix) * c! + ch;
              if (x[index]! > best || (which === 'last' && x[index]! === best)) {
                best = x[index]!;
                at = index;
              }
            }
          dx[at]! += dy[((b * gh.out + oy) * gw.out + ox) * c! + ch]!;
        }
  return dx;
}

interface Case {
  readonly shape: [number, number, number, number];
  readonly filter: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
}

const CASES: Case[] = [
  { shape: [2, 4, 4, 1], filter: [2, 2], strides: [2, 2], padding: 'valid' },
  { shape: [2, 5, 6, 2], filter: [2, 2], strides: [1, 1], padding: 'valid' },
  { shape: [2, 5, 6, 2], filter: [2, 2], strides: [1, 1], padding: 'same' },
  { shape: [1, 7, 5, 3], filter: [3, 3], strides: [2, 2], padding: 'same' },
  { shape: [1, 7, 5, 3], filter: [3, 3], strides: [2, 2], padding: 'valid' },
  { shape: [2, 6, 7, 1], filter: [2, 3], strides: [1, 2], padding: 'same' },
  { shape: [1, 5, 5, 2], filter: [3, 2], strides: [2, 1], padding: 'valid' },
];

/** Few distinct values, so that most windows hold their maximum more than once. */
function tiedInput(size: number, seed: number): Float32Array {
  const random = prng(seed);
  return Float32Array.from({ length: size }, () => Math.floor(random() * 3) - 1);
}

function label({ shape, filter, strides, padding }: Case): string {
  return `x [${shape}], window ${filter.join('x')}, strides ${strides.join('x')}, ${padding}`;
}

describe.each(BACKENDS)('first-maximum MaxPool gradient on %s', (backendName) => {
  beforeAll(() => useBackend(backendName));

  it.each(CASES.map((c) => [label(c), c] as const))('%s', async (_, testCase) => {
    const { shape, filter, strides, padding } = testCase;
    const size = shape.reduce((a, b) => a * b, 1);
    const xData = tiedInput(size, size + filter[0] * 10 + strides[0]);
    const x = tf.tensor4d(xData, shape);
    const y = tf.maxPool(x, filter, strides, padding);
    const random = prng(5);
    const dyData = Float32Array.from({ length: y.size }, () => 1 + random());
    const dy = tf.tensor4d(dyData, y.shape);
    const expected = maxRouting(xData, shape, filter, strides, padding, dyData);
    // The case can tell first from last: some windows repeat their maximum.
    const last = maxRouting(xData, shape, filter, strides, padding, dyData, 'last');
    expect(maxAbsError(expected, last)).toBeGreaterThan(0.5);

    const direct = firstMaxPoolGradient(dy, x, y, { filterSize: filter, strides, pad: padding });
    // Overlapping windows add in float32: equal up to rounding; a misrouted
    // window would be off by at least 1.
    expectClose(await direct.data(), expected, 1e-6, 'direct');

    // The same through tf.grad, with the rule installed for the call only.
    const viaGrad = withGradientRules(() =>
      tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, filter, strides, padding), dy)))(x),
    );
    expectClose(await viaGrad.data(), expected, 1e-6, 'tf.grad');
    tf.dispose([x, y, dy, direct, viaGrad]);
  });

  it('routes the whole gradient of an all-zero window to its first element', async () => {
    const x = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    const g = withGradientRules(() => tf.grad((input: tf.Tensor) => tf.sum(tf.maxPool(input as tf.Tensor4D, 2, 2, 'valid')))(x));
    expect(Array.from(await g.data())).toEqual([1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
    tf.dispose([x, g]);
  });

  it('makes no tensor from host values: its constants are filled on the device, not uploaded on every call', () => {
    const x = tf.tensor4d(tiedInput(2 * 7 * 5 * 3, 3), [2, 7, 5, 3]);
    const y = tf.maxPool(x, 3, 2, 'same');
    const dy = tf.onesLike(y) as tf.Tensor4D;
    // The engine's makeTensor is where values from JavaScript enter a backend (the bench counts uploads there).
    const engine = tf.engine();
    const makeTensor = engine.makeTensor;
    const made: number[][] = [];
    engine.makeTensor = function (this: typeof engine, ...args: Parameters<typeof makeTensor>) {
      made.push([...args[1]]);
      return makeTensor.apply(this, args);
    };
    try {
      tf.dispose(firstMaxPoolGradient(dy, x, y, { filterSize: 3, strides: 2, pad: 'same' }));
    } finally {
      engine.makeTensor = makeTensor;
    }
    expect(made).toEqual([]);
    tf.dispose([x, y, dy]);
  });

  it('puts back the gradients that were registered before, also on error', () => {
    const maxPool = tf.getGradient('MaxPool');
    const abs = tf.getGradient('Abs');
    withGradientRules(() => {
      expect(tf.getGradient('MaxPool')).not.toBe(maxPool);
      expect(tf.getGradient('Abs')).not.toBe(abs);
    });
    expect(tf.getGradient('MaxPool')).toBe(maxPool);
    expect(() =>
      withGradientRules(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(tf.getGradient('MaxPool')).toBe(maxPool);
    expect(tf.getGradient('Abs')).toBe(abs);

    // Where none was registered, none is left behind.
    tf.unregisterGradient('MaxPool');
    try {
      withGradientRules(() => undefined);
      expect(tf.getGradient('MaxPool')).toBeUndefined();
    } finally {
      tf.registerGradient(maxPool);
    }
  });

  it('takes |x| to have derivative 0 at 0 (TF.js alone gives -1)', async () => {
    const x = tf.tensor1d([-2, 0, 3]);
    const g = withGradientRules(() => tf.grad((input: tf.Tensor) => tf.sum(tf.abs(input)))(x));
    expect(Array.from(await g.data())).toEqual([-1, 0, 1]);
    tf.dispose([x, g]);
  });
});
