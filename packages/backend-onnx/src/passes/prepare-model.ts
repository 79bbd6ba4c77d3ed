import type { ModelProto } from '../proto/onnx_pb.js';
import { dequantize } from './dequantize.js';
import { checkElementTypes } from './element-types.js';
import { upcastFloat16 } from './upcast-float16.js';

/**
 * The graph passes run once, when the backend is created, on a freshly
 * decoded model (rewritten in place): float16 and bfloat16 computed in
 * float32, quantized (int8) models rewritten to their dequantized float
 * model, then a check that every constant is of a type the package
 * computes with, so that a model it cannot take is refused before any call.
 */
export function prepareModel(model: ModelProto): ModelProto {
  upcastFloat16(model);
  dequantize(model);
  checkElementTypes(model);
  return model;
}
