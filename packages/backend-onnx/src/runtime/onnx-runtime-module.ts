import type { InferenceSession, Tensor } from 'onnxruntime-common';

/**
 * The part of an ONNX Runtime module this package uses: what
 * `onnxruntime-web`, `onnxruntime-web/webgpu`, `onnxruntime-web/webgl` and
 * `onnxruntime-node` all export (the onnxruntime-common API). The caller hands
 * in the one they use, so their instance and its settings (`ort.env.wasm`)
 * are the ones that run.
 */
export interface OnnxRuntimeModule {
  readonly InferenceSession: {
    create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  };
  readonly Tensor: new (
    type: 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool',
    data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array,
    dims: readonly number[],
  ) => Tensor;
}
