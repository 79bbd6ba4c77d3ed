import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { AttributionError, explain, hostTensor } from '@saliency/core';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';

/**
 * Guided Backprop, DeconvNet and Grad-CAM on the parity fixture models against
 * PyTorch's own implementations (backward hooks on nn.ReLU; hooked layer
 * activations and gradients with F.interpolate), in float64, written by
 * scripts/make-xai-references.py.
 */
interface Reference {
  model: string;
  onnx: string;
  inputShape: number[];
  input: number[];
  targets: number[];
  logits: number[];
  guided_backprop: number[];
  deconvnet: number[];
  grad_cam?: number[];
  grad_cam_timeseries?: number[];
  grad_cam_plus_plus?: number[];
  layer_shape?: number[];
  /** An ONNX tensor named explicitly (the first max pool's output), and Grad-CAM there. */
  named_layer?: string;
  named_layer_cam?: number[];
}

const TOLERANCE = 1e-5;
const repository = new URL('../../../', import.meta.url);
const fixtures = new URL('./fixtures/xai/', import.meta.url);
const read = (name: string) => JSON.parse(readFileSync(new URL(`${name}.json`, fixtures), 'utf8'));
const names = readdirSync(fixtures)
  .filter((f) => f.endsWith('.json') && f !== 'region.json')
  .map((f) => f.slice(0, -5));
const RUNTIMES: Array<[string, OnnxRuntimeModule, object]> = [
  ['onnxruntime-node', ortNode as unknown as OnnxRuntimeModule, {}],
  ['onnxruntime-web wasm', ortWeb as unknown as OnnxRuntimeModule, { executionProviders: ['wasm'] }],
];

/** s(x) = −1 where x < 0, +1 elsewhere (docs/methods.md, "Notation"). */
const sign = (v: number) => (v < 0 ? -1 : 1);

describe.each(names)('%s: modified backward rules and Grad-CAM against PyTorch', (name) => {
  const reference: Reference = read(name);
  const bytes = readFileSync(new URL(reference.onnx, repository));
  const x = hostTensor(Float32Array.from(reference.input), reference.inputShape);
  const target = reference.targets;

  describe.each(RUNTIMES)('on %s', (_runtime, ort, sessionOptions) => {
    it('runs the same model (logits) and gives Guided Backprop and DeconvNet with their modifiers', async () => {
      const backend = createOnnxBackend(ort, bytes, { sessionOptions });
      try {
        expect(maxRelativeError((await backend.logits(x)).data, reference.logits), 'logits').toBeLessThanOrEqual(TOLERANCE);
        for (const method of ['guided_backprop', 'deconvnet'] as const) {
          const map = await explain(backend, method, x, { target });
          expect(map.shape).toEqual(reference.inputShape);
          expect(maxRelativeError(map.data, reference[method]), method).toBeLessThanOrEqual(TOLERANCE);
          const expected = {
            _x_input: reference[method].map((v, i) => v * reference.input[i]!),
            _x_sign: reference[method].map((v, i) => v * sign(reference.input[i]!)),
            _x_input_x_sign: reference[method].map((v, i) => v * reference.input[i]! * sign(reference.input[i]!)),
          };
          for (const [suffix, values] of Object.entries(expected)) {
            const modified = await explain(backend, method + suffix, x, { target });
            expect(maxRelativeError(modified.data, values), method + suffix).toBeLessThanOrEqual(TOLERANCE);
          }
        }
      } finally {
        await backend.dispose();
      }
    });

    const camMethod =
      reference.grad_cam !== undefined ? 'grad_cam' : reference.grad_cam_timeseries !== undefined ? 'grad_cam_timeseries' : undefined;
    it.runIf(camMethod !== undefined)('gives Grad-CAM at the default layer, upsampled to the input', async () => {
      const backend = createOnnxBackend(ort, bytes, { sessionOptions });
      try {
        const layer = await backend.layerGradients(x, Int32Array.from(target), undefined);
        expect(layer.activation.shape, `default layer "${layer.layer}"`).toEqual(reference.layer_shape);
        const map = await explain(backend, camMethod!, x, { target });
        expect(map.shape).toEqual([reference.inputShape[0], 1, ...reference.inputShape.slice(2)]);
        expect(maxRelativeError(map.data, reference[camMethod!]!), camMethod).toBeLessThanOrEqual(TOLERANCE);
        // The same layer named explicitly gives the same map.
        const named = await explain(backend, camMethod!, x, { target, layer: layer.layer });
        expect(Array.from(named.data)).toEqual(Array.from(map.data));
        if (reference.grad_cam_plus_plus !== undefined) {
          const plusPlus = await explain(backend, 'grad_cam_plus_plus', x, { target });
          expect(maxRelativeError(plusPlus.data, reference.grad_cam_plus_plus), 'grad_cam_plus_plus').toBeLessThanOrEqual(TOLERANCE);
        }
      } finally {
        await backend.dispose();
      }
    });

    it.runIf(reference.named_layer !== undefined)('gives Grad-CAM at a layer named by its ONNX tensor', async () => {
      const backend = createOnnxBackend(ort, bytes, { sessionOptions });
      try {
        const map = await explain(backend, camMethod!, x, { target, layer: reference.named_layer! });
        expect(maxRelativeError(map.data, reference.named_layer_cam!), `${camMethod} at "${reference.named_layer}"`).toBeLessThanOrEqual(
          TOLERANCE,
        );
      } finally {
        await backend.dispose();
      }
    });
  });
});

describe('Grad-CAM of a model whose class depends on one image region', () => {
  const reference = read('region');
  const bytes = readFileSync(new URL('region.onnx', fixtures));
  const x = hostTensor(Float32Array.from(reference.input), reference.inputShape);
  const [top, bottom, left, right] = reference.patch as number[];

  it.each(RUNTIMES)('lights the patch that decides the class, on %s', async (_runtime, ort, sessionOptions) => {
    const backend = createOnnxBackend(ort, bytes, { sessionOptions });
    try {
      const map = await explain(backend, 'grad_cam', x, { target: 0 });
      expect(maxRelativeError(map.data, reference.grad_cam)).toBeLessThanOrEqual(TOLERANCE);
      // The detector's 3×3 window, the 2×2 pool and the bilinear taps each widen the patch by a pixel.
      let inside = 0;
      let total = 0;
      let peak = 0;
      map.data.forEach((v, i) => {
        const [row, col] = [Math.floor(i / 16), i % 16];
        const near = row >= top! - 3 && row < bottom! + 3 && col >= left! - 3 && col < right! + 3;
        total += v;
        if (near) inside += v;
        if (v > map.data[peak]!) peak = i;
      });
      expect(total).toBeGreaterThan(0);
      expect(inside / total, 'share of the map near the patch').toBe(1);
      const [peakRow, peakCol] = [Math.floor(peak / 16), peak % 16];
      expect(peakRow >= top! && peakRow < bottom! && peakCol >= left! && peakCol < right!, `peak at (${peakRow}, ${peakCol})`).toBe(true);
    } finally {
      await backend.dispose();
    }
  });

  it('refuses a layer that is not on the path from the input, naming the feature maps there', async () => {
    const backend = createOnnxBackend(ortNode as unknown as OnnxRuntimeModule, bytes);
    try {
      const error = await explain(backend, 'grad_cam', x, { layer: 'no_such_tensor' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AttributionError);
      expect((error as AttributionError).code).toBe('INVALID_OPTION');
      expect((error as AttributionError).message).toMatch(
        /layer "no_such_tensor" is no tensor of the model; feature maps there: ".*" \[1, 2, 16, 16\]/,
      );
      const timeseries = await explain(backend, 'grad_cam_timeseries', x).catch((e: unknown) => e);
      expect((timeseries as AttributionError).code).toBe('INVALID_SHAPE');
    } finally {
      await backend.dispose();
    }
  });
});
