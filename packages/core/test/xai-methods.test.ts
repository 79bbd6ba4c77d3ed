import { describe, expect, it } from 'vitest';
import { AttributionError, explain, hostTensor, resizeLinear, type GradientBackend, type GradientRequest } from '../src/index.js';
import { referenceAttribution } from '../src/reference/index.js';
import { closedFormBackend, quadraticModel } from './closed-form-models.js';

const x = hostTensor([0.3, -0.7, 0.2, 1.1, -0.4, 0.9], [2, 3]);

async function rejection(run: Promise<unknown>): Promise<AttributionError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AttributionError);
  return error as AttributionError;
}

describe('methods of a modified backward pass (docs/methods.md, "Modified backward rules")', () => {
  it('are refused, naming the method and the pass, by a backend that does not run it', async () => {
    const backend = closedFormBackend(quadraticModel(3, 2));
    const error = await rejection(explain(backend, 'guided_backprop_x_sign', x));
    expect(error.code).toBe('UNSUPPORTED_METHOD');
    expect(error.message).toBe(
      'method guided_backprop needs the modified backward pass "guided_backprop", which backend closed-form-quadratic does not run (it runs no modified backward pass)',
    );
    expect(backend.calls.logits + backend.calls.gradients + backend.calls.moments, 'refused before any work').toBe(0);
  });

  it('ask the backend for their pass by name and apply the modifiers to what it returns', async () => {
    const inner = closedFormBackend(quadraticModel(3, 2));
    const requests: Array<GradientRequest | undefined> = [];
    const backend: GradientBackend = {
      name: 'recording',
      backwardRuleSets: ['deconvnet'],
      logits: (input) => inner.logits(input),
      gradients: (input, targets, request) => {
        requests.push(request);
        return inner.gradients(input, targets);
      },
    };
    const map = await explain(backend, 'deconvnet_x_input', x, { target: [0, 1] });
    const gradient = await explain(inner, 'gradient_x_input', x, { target: [0, 1] });
    expect(requests).toEqual([{ backward: 'deconvnet', examples: Int32Array.from([0, 1]) }]);
    expect(Array.from(map.data)).toEqual(Array.from(gradient.data));
    expect((await rejection(explain(backend, 'guided_backprop', x))).message).toContain('(it runs deconvnet)');
  });

  it('are refused by the float64 reference, which has input gradients only', () => {
    expect(() => referenceAttribution('deconvnet', quadraticModel(3, 2), x)).toThrow(/needs the modified backward pass "deconvnet"/);
  });
});

describe('Grad-CAM (docs/methods.md, "Grad-CAM")', () => {
  // One example, two channels of 2 × 2: w = (0.5, −1), cam = relu(0.5·A0 − A1) = [[0, 0], [0.5, 1]].
  const activation = hostTensor([1, 2, 3, 4, 1, 1, 1, 1], [1, 2, 2, 2]);
  const gradient = hostTensor([0.5, 0.5, 0.5, 0.5, -1, -3, 1, -1], [1, 2, 2, 2]);
  const image = hostTensor(new Float32Array(3 * 16), [1, 3, 4, 4]);
  const layerBackend = (): GradientBackend => ({
    name: 'layered',
    logits: async () => hostTensor([1, 0], [1, 2]),
    gradients: async () => {
      throw new Error('Grad-CAM must not ask for input gradients');
    },
    layerGradients: async (_x, targets, layer) => {
      expect(Array.from(targets)).toEqual([0]);
      expect(layer).toBe('features');
      return { layer: 'features', activation, gradient };
    },
  });

  it('weighs the channels by their mean gradient, rectifies, and resizes bilinearly with half-pixel centres', async () => {
    const map = await explain(layerBackend(), 'grad_cam', image, { layer: 'features' });
    expect(map.shape).toEqual([1, 1, 4, 4]);
    // Along each axis 2 → 4: outputs read input positions max((o + 0.5)/2 − 0.5, 0) = 0, 0.25, 0.75, 1 (clamped).
    const row1 = [0.5, 0.625, 0.875, 1];
    const expected = [[0, 0, 0, 0], row1.map((v) => 0.25 * v), row1.map((v) => 0.75 * v), row1].flat();
    expect(Array.from(map.data)).toEqual(expected.map((v) => Math.fround(v)));
  });

  it('gives the map of a channels-last input (inputChannelsLast) in its layout, resized to its positions', async () => {
    const channelsLast: GradientBackend = {
      ...layerBackend(),
      layerGradients: async () => ({ layer: 'features', activation, gradient, inputChannelsLast: true }),
    };
    const imageLast = hostTensor(new Float32Array(16 * 3), [1, 4, 4, 3]);
    const first = await explain(layerBackend(), 'grad_cam', image, { layer: 'features' });
    const last = await explain(channelsLast, 'grad_cam', imageLast, { layer: 'features' });
    expect(last.shape).toEqual([1, 4, 4, 1]);
    expect(Array.from(last.data)).toEqual(Array.from(first.data));
  });

  it('resizes a ramp linearly as PyTorch does with align_corners=False', () => {
    expect(Array.from(resizeLinear(Float64Array.from([0, 1, 2, 3]), [4], [8]))).toEqual([0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]);
    expect(Array.from(resizeLinear(Float64Array.from([0, 2, 4, 6, 8, 10]), [6], [3]))).toEqual([1, 5, 9]);
  });

  it('refuses a time-series layer for images and a backend without layer gradients', async () => {
    const wrongRank = await rejection(explain(layerBackend(), 'grad_cam_timeseries', image, { layer: 'features' }));
    expect(wrongRank.code).toBe('INVALID_SHAPE');
    expect(wrongRank.message).toContain('grad_cam_timeseries takes a 3-D [B, C, T] (time series) input and layer');
    const missing = await rejection(explain(closedFormBackend(quadraticModel(3, 2)), 'grad_cam', x));
    expect(missing.code).toBe('UNSUPPORTED_METHOD');
    expect(missing.message).toContain('method grad_cam needs layer activations and gradients (layerGradients)');
  });
});
