import { readFileSync } from 'node:fs';
import { toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { AttributionError, explain, hostTensor } from '@saliency/core';
import { createOnnxBackend, logitsDeviation, type OnnxRuntimeModule } from '../src/index.js';
import { bfloat16Value, float16Bits, float16Value } from '../src/model/float16.js';
import { DataType } from '../src/model/data-type.js';
import { expectClose } from './helpers/check-gradient.js';
import { node, onnxModel, valueInfo } from './helpers/onnx-model-builder.js';
import { PRECISION_FIXTURES as fixtures, PRECISION_RUNTIMES as RUNTIMES, readPrecisionReference } from './helpers/precision-fixtures.js';
import { ModelProtoSchema } from '../src/proto/onnx_pb.js';

/*
 * Models with float16 weights and compute, as shipped for WebGPU, are
 * differentiated in float32 (passes/upcast-float16.ts). The fixtures come from
 * scripts/make-precision-fixtures.py: a small CNN in float16 throughout, and
 * the same with float32 input and output cast to and from float16 inside;
 * the reference is PyTorch autograd in float64 on the float16-rounded weights.
 */

const reference = readPrecisionReference('cnn_fp16.json');
const TOLERANCE = 1e-4;

describe.each(reference.models)('%s (float16 weights and compute)', (file) => {
  const bytes = readFileSync(new URL(file, fixtures));
  const x = hostTensor(Float32Array.from(reference.input), reference.inputShape);

  it.each(RUNTIMES)(
    'on %s: logits and the input gradient within 1e-4 of float64 autograd on the float16 weights',
    async (_, ort, sessionOptions) => {
      const backend = createOnnxBackend(ort, bytes, { sessionOptions });
      try {
        expect(backend.inputShape).toEqual([null, 3, 16, 16]);
        expectClose((await backend.logits(x)).data, reference.logits, TOLERANCE, 'logits');
        const gradient = await explain(backend, 'gradient', x, { target: reference.targets });
        expectClose(gradient.data, reference.gradient, TOLERANCE, 'gradient');
      } finally {
        await backend.dispose();
      }
    },
  );
});

/*
 * onnxruntime-node's CPU EP has no float16 Conv or Gemm kernels: it casts
 * around them to float32 and removes the Cast pairs that meet, so on the CPU
 * the float16 model differs from its float32 rewrite only by the rounding of
 * a float16 input and output (cnn_fp16: 9.8e-5, under half a float16 step of its
 * logits; cnn_fp16_io32: 0). Real float16 compute (WebGPU with shader-f16)
 * is not measured here.
 */
describe('float16 model as shipped against its float32 rewrite: logitsDeviation', () => {
  it.each(reference.models)('%s: the float16 model as shipped against its float32 rewrite', async (file) => {
    const ort = ortNode as unknown as OnnxRuntimeModule;
    const bytes = readFileSync(new URL(file, fixtures));
    const x = hostTensor(Float32Array.from(reference.input), reference.inputShape);
    const deviation = await logitsDeviation(ort, bytes, x);
    console.log(
      `${file}: float16 compute vs float32: max |Δ| ${deviation.maxAbsolute.toExponential(3)} (relative ${deviation.relative.toExponential(3)}), same top class ${deviation.sameTopClass}`,
    );
    // The float32 rewrite is within 1e-4 of the float64 reference (above), so the float16 model's
    // distance from the reference is its distance from the rewrite, up to that.
    const session = await ort.InferenceSession.create(bytes);
    const half = file === 'cnn_fp16.onnx';
    const input = half
      ? new ortNode.Tensor('float16', Uint16Array.from(x.data, float16Bits), [...x.shape])
      : new ortNode.Tensor('float32', x.data, [...x.shape]);
    const data = (await session.run({ input })).logits!.data;
    await session.release();
    const shipped = half ? Array.from(data as Uint16Array, float16Value) : Array.from(data as Float32Array);
    const gap = Math.max(...shipped.map((v, i) => Math.abs(v - reference.logits[i]!)));
    const scale = Math.max(...reference.logits.map(Math.abs));
    expect(Math.abs(deviation.maxAbsolute - gap)).toBeLessThanOrEqual(1e-4 * scale);
    expect(deviation.relative).toBeLessThan(0.01);
  });
});

describe('16-bit float decoding', () => {
  it('float16 bit patterns: normal, subnormal, zero, infinity, NaN', () => {
    expect(float16Value(0x3c00)).toBe(1);
    expect(float16Value(0xc000)).toBe(-2);
    expect(float16Value(0x3555)).toBe(0.333251953125);
    expect(float16Value(0x7bff)).toBe(65504);
    expect(float16Value(0x0001)).toBe(2 ** -24);
    expect(float16Value(0x8000)).toBe(-0);
    expect(float16Value(0x7c00)).toBe(Infinity);
    expect(float16Value(0x7e00)).toBeNaN();
  });

  it('float16 encoding: every finite pattern round-trips; ties to even; overflow and underflow', () => {
    const wrong: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const notANumber = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
      if (!notANumber && float16Bits(float16Value(bits)) !== bits) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
    expect(float16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and its successor: to even
    expect(float16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float16Bits(65520)).toBe(0x7c00);
    expect(float16Bits(2 ** -25)).toBe(0); // halfway to the smallest subnormal: to even (0)
    expect(float16Bits(1.5 * 2 ** -25)).toBe(1);
    expect(float16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
  });

  it('bfloat16 bit patterns', () => {
    expect(bfloat16Value(0x3f80)).toBe(1);
    expect(bfloat16Value(0xc040)).toBe(-3);
    expect(bfloat16Value(0x3eab)).toBe(0.333984375);
  });
});

describe('a constant of a type the package cannot compute with', () => {
  it('is refused when the backend is created, with a code, naming the tensor and its type', () => {
    const model = onnxModel({
      nodes: [node('Add', ['input', 'bias'], ['output'])],
      initializers: { bias: { dims: [2], values: [0, 0], dataType: DataType.FLOAT } },
      inputs: [valueInfo('input', ['batch', 2])],
      outputs: [valueInfo('output', ['batch', 2])],
    });
    // The bias re-typed complex64 (two float32 per value), which the package does not compute with.
    const bias = model.graph!.initializer[0]!;
    bias.dataType = DataType.COMPLEX64;
    bias.rawData = new Uint8Array(16);
    const patched = toBinary(ModelProtoSchema, model);
    let error: unknown;
    try {
      createOnnxBackend(ortNode as unknown as OnnxRuntimeModule, patched);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AttributionError);
    expect((error as AttributionError).code).toBe('UNSUPPORTED_MODEL');
    expect((error as Error).message).toMatch(/initializer "bias" has element type .*14.*supported are float32/);
  });
});
