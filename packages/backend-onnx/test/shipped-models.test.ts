import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { explain, fillStandardNormal, hostTensor, type HostTensor } from '@saliency/core';
import { createOnnxBackend, logitsDeviation, type OnnxRuntimeModule } from '../src/index.js';
import { expectClose } from './helpers/check-gradient.js';
import { expectVarGradLikeReference, gradientTolerance, REFERENCE_TOLERANCE, type VarGradReference } from './helpers/vargrad-reference.js';

/**
 * Models in the forms people ship them (scripts/make-shipped-fixtures.py):
 * float16 ResNet-18 and MobileNetV2, a QDQ int8 ResNet-18, a CNN exported
 * with its batch fixed at 1, a U-Net explained at one score, a bidirectional
 * LSTM and a GRU. Each against PyTorch autograd in float64 (on the float16
 * weights, on the dequantized model): the logits, the input gradient of the
 * target logit and VarGrad over the library's own seeded noise.
 */
interface ShippedReference extends VarGradReference {
  model: string;
  models: string[];
  input: number[];
  logits: number[];
  gradient: number[];
  noise: { numSamples: number; sigma: number; seed: number };
}

const fixtures = new URL('./fixtures/shipped/', import.meta.url);
const references: ShippedReference[] = readdirSync(fixtures)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(new URL(f, fixtures), 'utf8')) as ShippedReference);
const cases = references.flatMap((reference) => reference.models.map((file) => [file, reference] as const));
const RUNTIMES: Array<[string, OnnxRuntimeModule, object]> = [
  ['onnxruntime-node', ortNode as unknown as OnnxRuntimeModule, {}],
  ['onnxruntime-web wasm', ortWeb as unknown as OnnxRuntimeModule, { executionProviders: ['wasm'] }],
];

/** The noise core's VarGrad adds for this seed and σ, [B, N, ...S]: for the one-flip check. */
function libraryNoise(reference: ShippedReference): HostTensor {
  const [examples, ...exampleShape] = reference.inputShape;
  const { numSamples, sigma, seed } = reference.noise;
  const size = exampleShape.reduce((a, b) => a * b, 1);
  const noise = new Float32Array(examples! * numSamples * size);
  for (let b = 0; b < examples!; b++)
    for (let i = 0; i < numSamples; i++) {
      const out = noise.subarray((b * numSamples + i) * size, (b * numSamples + i + 1) * size);
      fillStandardNormal(out, seed, b, i);
      for (let e = 0; e < size; e++) out[e] = out[e]! * sigma;
    }
  return hostTensor(noise, [examples!, numSamples, ...exampleShape]);
}

describe.each(cases)('%s', (file, reference) => {
  const x = hostTensor(Float32Array.from(reference.input), reference.inputShape);

  it.each(RUNTIMES)(
    'on %s: logits, gradient and VarGrad (seeded noise) within 1e-4 of PyTorch autograd in float64',
    async (_, ort, sessionOptions) => {
      const warnings: string[] = [];
      const bytes = readFileSync(new URL(`models/${file}`, fixtures));
      const backend = createOnnxBackend(ort, bytes, { sessionOptions, onWarning: (message) => warnings.push(message) });
      try {
        expectClose((await backend.logits(x)).data, reference.logits, REFERENCE_TOLERANCE, 'logits');
        const gradient = await explain(backend, 'gradient', x, { target: reference.targets });
        expectClose(gradient.data, reference.gradient, gradientTolerance(reference), 'gradient');
        const { numSamples, sigma, seed } = reference.noise;
        const vargrad = await explain(backend, 'vargrad', x, { target: reference.targets, numSamples, noiseScale: sigma, seed });
        await expectVarGradLikeReference(backend, vargrad, reference, x, libraryNoise(reference));
        // Only the model whose batch no rewrite frees runs one row per call, and says so once.
        expect(warnings).toEqual(
          file === 'cnn_batch1_flat.onnx'
            ? [expect.stringMatching(/the model fixes its batch size at 1 \(input "input"; at another batch size: .*MatMul/)]
            : [],
        );
      } finally {
        await backend.dispose();
      }
    },
    // ResNet-18 sized (11 M weights), each model built and run on two runtimes, on two busy cores.
    300_000,
  );
});

describe('the shipped model against its float32 rewrite (logitsDeviation, onnxruntime-node)', () => {
  const ort = ortNode as unknown as OnnxRuntimeModule;
  it.each(['resnet18_fp16_io32.onnx', 'mobilenet_v2_fp16_io32.onnx', 'resnet18_int8_qdq.onnx'])(
    '%s',
    async (file) => {
      const reference = cases.find(([f]) => f === file)![1];
      const bytes = readFileSync(new URL(`models/${file}`, fixtures));
      const x = hostTensor(Float32Array.from(reference.input), reference.inputShape);
      const deviation = await logitsDeviation(ort, bytes, x);
      console.log(
        `${file}: shipped vs rewritten logits: max |Δ| ${deviation.maxAbsolute.toExponential(3)} ` +
          `(relative ${deviation.relative.toExponential(3)}), same top class ${deviation.sameTopClass}`,
      );
      // Independently: ONNX Runtime's run of the model as shipped against the float64 reference of the rewrite.
      const session = await ort.InferenceSession.create(bytes);
      const shipped = (await session.run({ input: new ort.Tensor('float32', x.data, [...x.shape]) })).logits!.data as Float32Array;
      await session.release();
      const gap = Math.max(...reference.logits.map((v, i) => Math.abs(shipped[i]! - v)));
      const scale = Math.max(...reference.logits.map(Math.abs));
      expect(Math.abs(deviation.maxAbsolute - gap)).toBeLessThanOrEqual(REFERENCE_TOLERANCE * scale);
      // float16: 0 on the CPU (no float16 kernels: ONNX Runtime casts around them); int8: the activation rounding (measured 5.3e-2).
      expect(deviation.relative).toBeLessThan(0.1);
    },
    300_000,
  );
});
