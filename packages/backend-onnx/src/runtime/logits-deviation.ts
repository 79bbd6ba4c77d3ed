import { AttributionError, type HostTensor } from '@saliency/core';
import type { Tensor } from 'onnxruntime-common';
import { DataType } from '../model/data-type.js';
import { float16Bits, float16Value } from '../model/float16.js';
import { readOnnxModel } from '../model/onnx-model.js';
import type { ValueInfoProto } from '../proto/onnx_pb.js';
import { createOnnxBackend, type OnnxBackendOptions } from './onnx-backend.js';
import type { OnnxRuntimeModule } from './onnx-runtime-module.js';

/** How far the model the backend differentiates is from the model as shipped, on one batch. */
export interface LogitsDeviation {
  /** Largest |rewritten − original| over the batch's logits. */
  readonly maxAbsolute: number;
  /** `maxAbsolute` over the original's largest |logit|. */
  readonly relative: number;
  /** Fraction of the rows whose largest logit is the same class in both. */
  readonly sameTopClass: number;
}

/**
 * Runs a model as shipped, in an ordinary ONNX Runtime session, and as the
 * backend differentiates it (after its graph passes: an int8 model's
 * dequantized float model, a float16 model in float32), on the batch `x`,
 * and reports how far their logits are apart: for a quantized model, its
 * quantization error, which the map does not see (it is the gradient of the
 * dequantized model). The output compared is the one the backend would
 * explain, softmax kept. A float16 input is fed `x` rounded to float16 (for
 * a float16 model: the error of its float16 compute against float32).
 */
export async function logitsDeviation(
  ort: OnnxRuntimeModule,
  model: Uint8Array,
  x: HostTensor,
  options: OnnxBackendOptions = {},
): Promise<LogitsDeviation> {
  const backend = createOnnxBackend(ort, model, { ...options, softmax: 'keep' });
  const session = await ort.InferenceSession.create(model, options.sessionOptions);
  try {
    const inputName = options.inputName ?? session.inputNames[0]!;
    const outputName = options.outputName ?? session.outputNames[0]!;
    const float16 = (name: string, values: readonly ValueInfoProto[]) => {
      const type = values.find((value) => value.name === name)?.type?.value;
      return type?.case === 'tensorType' && type.value.elemType === DataType.FLOAT16;
    };
    const { graph } = readOnnxModel(model, options.externalData);
    // Every ONNX Runtime module takes float16 tensors as their bit patterns; the
    // backend's module type names only the float32 form it feeds.
    const Float16Tensor = ort.Tensor as unknown as new (type: 'float16', data: Uint16Array, dims: readonly number[]) => Tensor;
    const feed = float16(inputName, graph!.input)
      ? new Float16Tensor('float16', Uint16Array.from(x.data, float16Bits), [...x.shape])
      : new ort.Tensor('float32', x.data, [...x.shape]);
    let original: Tensor;
    try {
      original = (await session.run({ [inputName]: feed }))[outputName] as Tensor;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new AttributionError('MODEL_FAILED', `logitsDeviation: ONNX Runtime failed to run the model as shipped: ${message}`, {
        cause: error,
      });
    }
    const rewritten = await backend.logits(x);
    const expected = float16(outputName, graph!.output)
      ? Float32Array.from(original.data as Uint16Array, float16Value)
      : (original.data as Float32Array);
    if (expected.length !== rewritten.data.length) {
      throw new AttributionError(
        'BACKEND_OUTPUT',
        `logitsDeviation: the model as shipped gives ${expected.length} logits, the rewritten one ${rewritten.data.length}`,
      );
    }
    let maxAbsolute = 0;
    let scale = 0;
    for (let i = 0; i < expected.length; i++) {
      maxAbsolute = Math.max(maxAbsolute, Math.abs(rewritten.data[i]! - expected[i]!));
      scale = Math.max(scale, Math.abs(expected[i]!));
    }
    const [rows, classes] = rewritten.shape as [number, number];
    const top = (data: ArrayLike<number>, row: number) => {
      let best = 0;
      for (let k = 1; k < classes; k++) if (data[row * classes + k]! > data[row * classes + best]!) best = k;
      return best;
    };
    let same = 0;
    for (let row = 0; row < rows; row++) if (top(expected, row) === top(rewritten.data, row)) same++;
    return { maxAbsolute, relative: scale === 0 ? maxAbsolute : maxAbsolute / scale, sameTopClass: rows === 0 ? 1 : same / rows };
  } finally {
    await session.release();
    await backend.dispose();
  }
}
