import type { GradientBackend, RuntimeId } from '@saliency/core';
import { createOnnxBackend, type OnnxRuntimeModule } from '@saliency/backend-onnx';
import { columnId, type Environment, type ParityColumn } from './columns.js';

/**
 * An ONNX Runtime module on one execution provider as a parity column:
 * `runtime` e.g. `onnx-webgl`, `executionProvider` e.g. `webgl` (`undefined`
 * for onnxruntime-node's default CPU provider).
 */
export function onnxColumn(
  ort: unknown,
  runtime: RuntimeId,
  device: string,
  executionProvider: string | undefined,
  environment: Environment,
): ParityColumn {
  const sessionOptions = executionProvider ? { executionProviders: [executionProvider] } : {};
  const gpu = executionProvider === 'webgl' || executionProvider === 'webgpu';
  return {
    id: columnId(runtime, environment),
    runtime,
    library: 'ONNX Runtime',
    device,
    environment,
    deviceClass: gpu ? 'gpu' : 'float32-exact',
    model: 'onnx',
    open: async (fixture, probabilityHead = 'strip'): Promise<GradientBackend> =>
      createOnnxBackend(ort as OnnxRuntimeModule, fixture.onnx, { sessionOptions, softmax: probabilityHead }),
    async runtimeLogits(fixture) {
      const runtime = ort as typeof import('onnxruntime-common');
      // The static-batch copy: the WebGL EP rejects an input with a symbolic dimension.
      const session = await runtime.InferenceSession.create(fixture.onnxStaticBatch, sessionOptions);
      try {
        const input = new runtime.Tensor('float32', fixture.input.data, fixture.input.shape);
        const outputs = await session.run({ [session.inputNames[0]!]: input });
        const logits = outputs[session.outputNames[0]!]!;
        const data = (await logits.getData()) as Float32Array;
        return Float32Array.from(data);
      } finally {
        await session.release();
      }
    },
  };
}
