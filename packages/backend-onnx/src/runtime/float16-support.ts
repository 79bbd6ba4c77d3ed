import { AttributionError } from '@saliency/core';
import type { Tensor } from 'onnxruntime-common';
import type { ExecutionProvider } from '../execution-provider/execution-provider.js';
import type { Precision } from '../autodiff/build-gradient-model.js';
import type { OnnxRuntimeModule } from './onnx-runtime-module.js';

/*
 * Where `precision: 'float16'` may run (docs/methods.md, "Precision"): ONNX
 * Runtime's WebGPU EP on an adapter with WebGPU's `shader-f16` feature. On
 * any other EP the option is refused when the backend is created; the
 * adapter is asked before the first graph is built. Without shader-f16
 * ONNX Runtime would place the float16 nodes on WebGPU and then fail to
 * compile them ("Program Transpose requires f16 but the device does not
 * support it", onnxruntime-web 1.30 on SwiftShader); its CPU EP casts around
 * float16 nodes and computes them in float32, which is no float16 compute.
 */

export const PRECISIONS: readonly Precision[] = ['float32', 'float16'];

const ALLOWED =
  "precision 'float32' (the default) on every execution provider, 'float16' only on onnxruntime-web's WebGPU EP on an adapter with the shader-f16 feature";

/** The `precision` option checked against the backend's execution provider. */
export function precisionOption(value: unknown, executionProvider: ExecutionProvider): Precision {
  if (value === undefined) return 'float32';
  if (!PRECISIONS.includes(value as Precision)) {
    throw new AttributionError(
      'INVALID_OPTION',
      `createOnnxBackend: option precision must be one of ${PRECISIONS.join(', ')}, got ${JSON.stringify(value)}; ${ALLOWED}`,
    );
  }
  if (value === 'float16' && executionProvider !== 'webgpu') {
    throw new AttributionError(
      'INVALID_OPTION',
      `createOnnxBackend: option precision 'float16' needs the WebGPU EP (sessionOptions: { executionProviders: ['webgpu'] }), ` +
        `but the graphs are built for the ${executionProvider} EP; allowed: ${ALLOWED}`,
    );
  }
  return value as Precision;
}

interface AdapterLike {
  readonly features?: { has(feature: string): boolean };
  readonly info?: { vendor?: string; architecture?: string; description?: string };
}

/**
 * Refuses (INVALID_OPTION) float16 where the WebGPU adapter ONNX Runtime
 * uses lacks shader-f16: the adapter set in `ort.env.webgpu.adapter`, or the
 * one `navigator.gpu` gives for `ort.env.webgpu`'s power preference, as ONNX
 * Runtime asks for it.
 */
export async function checkShaderF16(ort: OnnxRuntimeModule, who: string): Promise<void> {
  const settings = ort.env?.webgpu;
  let adapter: AdapterLike | null | undefined;
  try {
    adapter = settings?.adapter as AdapterLike | undefined;
  } catch {
    adapter = undefined;
  }
  if (typeof adapter?.features?.has !== 'function') {
    const gpu =
      typeof navigator === 'undefined'
        ? undefined
        : (navigator as { gpu?: { requestAdapter(options?: object): Promise<AdapterLike | null> } }).gpu;
    if (gpu === undefined)
      throw new AttributionError(
        'INVALID_OPTION',
        `${who}: precision 'float16' needs WebGPU, and this JavaScript engine has no navigator.gpu; ${ALLOWED}`,
      );
    adapter = await gpu.requestAdapter({
      ...(settings?.powerPreference === undefined ? {} : { powerPreference: settings.powerPreference }),
      ...(settings?.forceFallbackAdapter === undefined ? {} : { forceFallbackAdapter: settings.forceFallbackAdapter }),
    });
  }
  if (adapter === null || adapter === undefined) {
    throw new AttributionError(
      'INVALID_OPTION',
      `${who}: precision 'float16' needs a WebGPU adapter, and navigator.gpu.requestAdapter() gave none; ${ALLOWED}`,
    );
  }
  if (adapter.features?.has('shader-f16') !== true) {
    const info = adapter.info;
    const name = [info?.vendor, info?.architecture, info?.description].filter((part) => part !== undefined && part !== '').join(' ');
    throw new AttributionError(
      'INVALID_OPTION',
      `${who}: precision 'float16' needs the WebGPU feature shader-f16, which this adapter${name === '' ? '' : ` (${name})`} lacks; ${ALLOWED}`,
    );
  }
}

/**
 * Refuses (BACKEND_OUTPUT) a float16 graph's outputs holding infinities or
 * NaN: a value past float16's largest (65504) on the way — an activation,
 * a gradient, or an input — became infinite. The moments are reduced in
 * float32, so only values of single rows overflow.
 */
export function checkFiniteOutputs(outputs: Readonly<Record<string, Pick<Tensor, 'data'>>>, who: string): void {
  for (const [name, { data }] of Object.entries(outputs)) {
    if (!(data instanceof Float32Array)) continue;
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad < 0) continue;
    throw new AttributionError(
      'BACKEND_OUTPUT',
      `${who}: output ${name} of the float16 graph holds ${data[bad]} at element ${bad}: a value beyond float16's range (largest 65504) ` +
        `arose on the way (an input, activation or gradient); scale the input down or use precision 'float32'`,
    );
  }
}
