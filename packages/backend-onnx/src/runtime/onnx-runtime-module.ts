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
  readonly Tensor: (new (
    type: 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool',
    data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array,
    dims: readonly number[],
  ) => Tensor) & {
    /** onnxruntime-web: a tensor whose data is a WebGPU buffer on `env.webgpu.device` (device-noise.ts, graph-capture.ts). */
    fromGpuBuffer?(
      buffer: unknown,
      options: { dataType: Tensor.GpuBufferDataTypes; dims: readonly number[]; dispose?: () => void },
    ): Tensor;
  };
  /**
   * onnxruntime-web's WebGPU settings: `device` resolves to the GPUDevice its
   * WebGPU EP runs on; `adapter`, `powerPreference`, `forceFallbackAdapter`
   * choose its adapter (read by `float16-support.ts`).
   */
  readonly env?: {
    readonly webgpu?: {
      readonly device?: PromiseLike<unknown>;
      readonly adapter?: unknown;
      readonly powerPreference?: 'low-power' | 'high-performance';
      readonly forceFallbackAdapter?: boolean;
    };
  };
}
