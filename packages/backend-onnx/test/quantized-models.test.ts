import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { AttributionError, explain, hostTensor } from '@saliency/core';
import { createOnnxBackend, logitsDeviation, type OnnxRuntimeModule } from '../src/index.js';
import { DataType } from '../src/model/data-type.js';
import { expectClose } from './helpers/check-gradient.js';
import { node, onnxBytes, valueInfo } from './helpers/onnx-model-builder.js';
import { PRECISION_FIXTURES as fixtures, PRECISION_RUNTIMES as RUNTIMES, readPrecisionReference } from './helpers/precision-fixtures.js';

/*
 * int8 models rewritten to their dequantized float model
 * (passes/dequantize.ts): weight-only DequantizeLinear, QDQ on the
 * activations, QLinearConv + QLinearMatMul, and DynamicQuantizeLinear +
 * ConvInteger + MatMulInteger, each hand-built from a small CNN's weights by
 * scripts/make-precision-fixtures.py. Reference: PyTorch autograd in float64
 * on the dequantized model (weights dequantized; activation quantization
 * without rounding, with its saturation).
 */

const FORMS = ['weights', 'qdq', 'qlinear', 'dynamic'];
const TOLERANCE = 1e-4;

describe.each(FORMS)('cnn_int8_%s', (form) => {
  const reference = readPrecisionReference(`cnn_int8_${form}.json`);
  const bytes = readFileSync(new URL(`cnn_int8_${form}.onnx`, fixtures));
  const x = hostTensor(Float32Array.from(reference.input), reference.inputShape);

  it.each(RUNTIMES)(
    'on %s: logits and input gradient within 1e-4 of float64 autograd on the dequantized model',
    async (_, ort, sessionOptions) => {
      const backend = createOnnxBackend(ort, bytes, { sessionOptions });
      try {
        expectClose((await backend.logits(x)).data, reference.logits, TOLERANCE, 'logits');
        const gradient = await explain(backend, 'gradient', x, { target: reference.targets });
        expectClose(gradient.data, reference.gradient, TOLERANCE, 'gradient');
      } finally {
        await backend.dispose();
      }
    },
  );

  it("logitsDeviation reports the quantized model's distance from its dequantized model", async () => {
    const ort = ortNode as unknown as OnnxRuntimeModule;
    const deviation = await logitsDeviation(ort, bytes, x);
    // Independently: ONNX Runtime's run of the model as shipped against the float64 dequantized model.
    const session = await ort.InferenceSession.create(bytes);
    const shipped = (await session.run({ input: new ort.Tensor('float32', x.data, [...x.shape]) })).logits!.data as Float32Array;
    await session.release();
    let gap = 0;
    let scale = 0;
    reference.logits.forEach((v, i) => {
      gap = Math.max(gap, Math.abs(shipped[i]! - v));
      scale = Math.max(scale, Math.abs(shipped[i]!));
    });
    console.log(
      `cnn_int8_${form}: rewritten vs shipped logits: max |Δ| ${deviation.maxAbsolute.toExponential(3)} (relative ${deviation.relative.toExponential(3)}), same top class ${deviation.sameTopClass}`,
    );
    expect(Math.abs(deviation.maxAbsolute - gap)).toBeLessThanOrEqual(1e-6 + 1e-4 * gap);
    expect(deviation.relative).toBeCloseTo(deviation.maxAbsolute / scale, 12);
    if (form === 'weights') expect(deviation.maxAbsolute).toBeLessThan(1e-6);
    else expect(deviation.maxAbsolute).toBeGreaterThan(1e-6); // activation rounding is what the rewrite leaves out
    expect(deviation.relative).toBeLessThan(0.02);
  });
});

describe('quantized ops the rewrite cannot take are refused at creation', () => {
  it('an op other than the value-moving ones reading a quantized value, named with its node', () => {
    const bytes = onnxBytes({
      nodes: [
        node('QuantizeLinear', ['input', 's', 'z'], ['q']),
        node('Cast', ['q'], ['f'], { to: { int: DataType.FLOAT } }, 'cast_q'),
        node('Mul', ['f', 's'], ['output']),
      ],
      initializers: { s: { dims: [], values: [0.1] }, z: { dims: [], values: [128], dataType: DataType.UINT8 } },
      inputs: [valueInfo('input', ['batch', 4])],
      outputs: [valueInfo('output', ['batch', 4])],
    });
    let error: unknown;
    try {
      createOnnxBackend(ortNode as unknown as OnnxRuntimeModule, bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AttributionError);
    expect((error as AttributionError).code).toBe('UNSUPPORTED_MODEL');
    expect((error as Error).message).toMatch(/Cast node "cast_q" reads the quantized value "q" as integers/);
  });
});

describe('QuantizeLinear → DequantizeLinear on an activation: saturation kept, rounding passed straight through', () => {
  // x → Q(scale 0.1, zero point 128: values −12.8 to 12.7) → DQ → Mul by w. Where x is inside that range the
  // dequantized model is x·w, so the gradient is w; where it saturates, the output is constant: 0.
  const x = hostTensor(Float32Array.of(0.04, -3.33, 20, -13.5, 12.64, 7.77), [1, 6]);
  const w = [1.5, -2, 3, 0.5, -1, 2.5];
  const expected = [1.5, -2, 0, 0, -1, 2.5];
  const expectedLogits = [0.04 * 1.5, -3.33 * -2, 12.7 * 3, -12.8 * 0.5, 12.64 * -1, 7.77 * 2.5];

  it.each([10, 13])('opset %i (Clip with attributes before 11, inputs from 11)', async (opset) => {
    const bytes = onnxBytes({
      opset,
      nodes: [
        node('QuantizeLinear', ['input', 's', 'z'], ['q']),
        node('DequantizeLinear', ['q', 's', 'z'], ['d']),
        node('Mul', ['d', 'w'], ['output']),
      ],
      initializers: {
        s: { dims: [], values: [0.1] },
        z: { dims: [], values: [128], dataType: DataType.UINT8 },
        w: { dims: [1, 6], values: w },
      },
      inputs: [valueInfo('input', ['batch', 6])],
      outputs: [valueInfo('output', ['batch', 6])],
    });
    const backend = createOnnxBackend(ortNode as unknown as OnnxRuntimeModule, bytes);
    try {
      expectClose((await backend.logits(x)).data, expectedLogits, 1e-6, 'logits');
      for (let target = 0; target < 6; target++) {
        const gradient = await backend.gradients(x, Int32Array.of(target));
        expect(
          Array.from(gradient.data, (v) => v + 0),
          `target ${target}`,
        ).toEqual(expected.map((v, i) => (i === target ? v : 0)));
      }
    } finally {
      await backend.dispose();
    }
  });

  it('an activation quantized per axis is refused at creation', () => {
    const bytes = onnxBytes({
      nodes: [
        node('QuantizeLinear', ['input', 's', 'z'], ['q'], { axis: { int: 1 } }, 'per_axis'),
        node('DequantizeLinear', ['q', 's', 'z'], ['output'], { axis: { int: 1 } }),
      ],
      initializers: { s: { dims: [2], values: [0.1, 0.2] }, z: { dims: [2], values: [0, 0], dataType: DataType.UINT8 } },
      inputs: [valueInfo('input', ['batch', 2])],
      outputs: [valueInfo('output', ['batch', 2])],
    });
    expect(() => createOnnxBackend(ortNode as unknown as OnnxRuntimeModule, bytes)).toThrow(
      /QuantizeLinear node "per_axis": an activation quantized per axis is not supported/,
    );
  });

  it('a DequantizeLinear of a graph input (integer data, not quantized in the graph) is refused at creation', () => {
    const bytes = onnxBytes({
      nodes: [node('DequantizeLinear', ['input', 's'], ['output'], {}, 'dq_input')],
      initializers: { s: { dims: [], values: [0.1] } },
      inputs: [valueInfo('input', ['batch', 2], DataType.UINT8)],
      outputs: [valueInfo('output', ['batch', 2])],
    });
    expect(() => createOnnxBackend(ortNode as unknown as OnnxRuntimeModule, bytes)).toThrow(
      /DequantizeLinear node "dq_input" reads "input", which is neither a constant nor a value quantized in the graph/,
    );
  });
});
