import { AttributionError } from '@saliency/core';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { createBuffer, readBackAll, TENSOR_BUFFER_USAGE, type GpuBuffer, type GpuDevice } from '../device-noise/gpu-device.js';
import { executionProviderOf, type ExecutionProvider } from '../execution-provider/execution-provider.js';
import { PACKED_OUTPUT, type PackedOutput } from '../passes/pack-outputs.js';
import { hasDeviceNoise, isDeviceFeed, Turns, webgpuDevice, type DeviceFeed } from './device-noise.js';
import type { OnnxRuntimeModule } from './onnx-runtime-module.js';

/*
 * ONNX Runtime's graph capture on its WebGPU EPs (session option
 * `enableGraphCapture`): the first run records the kernels' GPU commands and
 * later runs replay them, without ONNX Runtime's per-kernel work on the
 * JavaScript thread. Its rules, from onnxruntime-web 1.30:
 *
 * - every node on the WebGPU EP and no control flow, or session creation
 *   fails ("cannot use the graph capture feature ... not been partitioned");
 *   the JSEP build (the default bundle, `/all`) lacks kernels the native one
 *   (`/webgpu`) has, so a graph may be captured on one and not the other;
 * - every input and every output a GPU buffer, and the same buffers on every
 *   run: the inputs and outputs are bound once, at the first run (the JSEP
 *   build refuses another input buffer, "Registering a different external
 *   buffer under graph capture mode", the native one would replay the old
 *   one). The outputs are left to ONNX Runtime (`preferredOutputLocation:
 *   'gpu-buffer'`), which keeps them bound: outputs given to `run` as
 *   buffers of our own fail in the native build from the second run on (it
 *   looks up the first run's handle of the buffer, released after that run:
 *   "Cannot set properties of undefined", onnxruntime-web 1.30). And as two
 *   outputs of one size came back in one buffer there (the moments' mean and
 *   m2 both held m2), a captured graph has its outputs packed into one
 *   (`passes/pack-outputs.ts`), split again on the host;
 * - hence static shapes: a session per input shape, which the backend has
 *   anyway (one graph per shape and call kind, `session-cache.ts`);
 * - the native build hands the option to its EP only from a provider given
 *   as an object (`{ name: 'webgpu' }`), not from the string `'webgpu'`.
 *
 * So a captured session comes with buffers of its own for every input, held
 * as long as it is cached: a call writes its inputs into them (uploaded, or
 * made there by the device noise pass), runs, and reads ONNX Runtime's
 * output buffers back.
 */

/**
 * The `graphCapture` option, checked against the runtime: true only on
 * onnxruntime-web's WebGPU EP with GPU-buffer tensors, in a JavaScript engine
 * with WebGPU. `sessionOptions.enableGraphCapture: true` asks for it too
 * (ONNX Runtime would otherwise refuse every host tensor the backend feeds).
 */
export function graphCaptureOption(
  ort: OnnxRuntimeModule,
  value: unknown,
  sessionOptions: InferenceSession.SessionOptions | undefined,
  executionProvider: ExecutionProvider,
): boolean {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new AttributionError('INVALID_OPTION', `createOnnxBackend: option graphCapture must be a boolean, got ${String(value)}`);
  }
  const inSessionOptions = sessionOptions?.enableGraphCapture;
  if (value === false && inSessionOptions === true) {
    throw new AttributionError(
      'INVALID_OPTION',
      'createOnnxBackend: option graphCapture is false but sessionOptions.enableGraphCapture is true; set one of them',
    );
  }
  if (!(value ?? inSessionOptions === true)) return false;
  const provider = executionProviderOf(sessionOptions?.executionProviders);
  if (provider !== 'webgpu' || !hasDeviceNoise(ort, executionProvider)) {
    throw new AttributionError(
      'INVALID_OPTION',
      "createOnnxBackend: option graphCapture needs onnxruntime-web's WebGPU EP (sessionOptions.executionProviders " +
        `['webgpu'] on onnxruntime-web, onnxruntime-web/all or onnxruntime-web/webgpu) in a JavaScript engine with WebGPU; got ` +
        `${provider === 'webgpu' ? 'no WebGPU here (navigator.gpu) or a module without GPU-buffer tensors' : `the ${provider} provider`}`,
    );
  }
  return true;
}

/** The caller's session options without `enableGraphCapture`, for the sessions that are not captured. */
export function withoutGraphCapture(options: InferenceSession.SessionOptions): InferenceSession.SessionOptions {
  const rest = { ...options };
  delete rest.enableGraphCapture;
  return rest;
}

/** The session options of a captured session. */
export function capturedSessionOptions(options: InferenceSession.SessionOptions): InferenceSession.SessionOptions {
  return {
    ...options,
    enableGraphCapture: true,
    preferredOutputLocation: 'gpu-buffer',
    executionProviders: (options.executionProviders ?? []).map((provider) => (provider === 'webgpu' ? { name: 'webgpu' } : provider)),
  };
}

const ELEMENT_BYTES: Readonly<Record<Tensor.GpuBufferDataTypes, number>> = {
  float32: 4,
  float16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint8: 1,
  bool: 1,
};

interface Binding {
  readonly name: string;
  readonly type: Tensor.GpuBufferDataTypes;
  readonly dims: readonly number[];
  readonly bytes: number;
  readonly buffer: GpuBuffer;
  readonly tensor: Tensor;
}

/**
 * The GPU buffers a captured session's inputs are bound to, made once with
 * the session; `run` writes the inputs, runs and reads the outputs back, one
 * call at a time (the buffers are shared).
 */
export class CapturedBindings {
  readonly #ort: OnnxRuntimeModule;
  readonly #session: InferenceSession;
  readonly #device: GpuDevice;
  readonly #inputs: readonly Binding[];
  readonly #outputs: readonly PackedOutput[];
  readonly #turns = new Turns();

  private constructor(
    ort: OnnxRuntimeModule,
    session: InferenceSession,
    device: GpuDevice,
    inputs: Binding[],
    outputs: readonly PackedOutput[],
  ) {
    this.#ort = ort;
    this.#session = session;
    this.#device = device;
    this.#inputs = inputs;
    this.#outputs = outputs;
  }

  /**
   * Buffers for every input of `session`, a session of a graph whose outputs
   * `outputs` are packed into one, the inputs' shapes and types from its
   * metadata. Throws (before any buffer is made) where an input's shape is
   * not static: then the graph is not captured.
   */
  static async create(
    ort: OnnxRuntimeModule,
    session: InferenceSession,
    outputs: readonly PackedOutput[],
    who: string,
  ): Promise<CapturedBindings> {
    const inputs = staticValues(session.inputMetadata, session.inputNames, 'input');
    const device = await webgpuDevice(ort, who);
    const made: Binding[] = [];
    try {
      for (const value of inputs) {
        const buffer = createBuffer(device, value.bytes, TENSOR_BUFFER_USAGE);
        made.push({
          ...value,
          buffer,
          tensor: ort.Tensor.fromGpuBuffer!(buffer, {
            dataType: value.type,
            dims: value.dims,
          }),
        });
      }
    } catch (error) {
      for (const binding of made) binding.buffer.destroy();
      throw error;
    }
    return new CapturedBindings(ort, session, device, made, outputs);
  }

  /** The bytes of the buffers. */
  get bytes(): number {
    return this.#inputs.reduce((total, binding) => total + binding.buffer.size, 0);
  }

  /** One run: `feeds` (host tensors, or values made on the device) written into the input buffers, the outputs read back. */
  run(feeds: Readonly<Record<string, Tensor | DeviceFeed>>): Promise<InferenceSession.OnnxValueMapType> {
    return this.#turns.take(() => this.#runNow(feeds));
  }

  /** Destroys the buffers (after the session is released). */
  release(): void {
    for (const binding of this.#inputs) binding.buffer.destroy();
  }

  async #runNow(feeds: Readonly<Record<string, Tensor | DeviceFeed>>): Promise<InferenceSession.OnnxValueMapType> {
    for (const input of this.#inputs) this.#write(input, feeds[input.name]);
    const results = await this.#session.run(Object.fromEntries(this.#inputs.map((input) => [input.name, input.tensor])));
    const packed = results[PACKED_OUTPUT] as Tensor;
    let values: Float32Array;
    try {
      values =
        packed.location === 'gpu-buffer'
          ? new Float32Array(
              (
                await readBackAll(this.#device, [
                  {
                    buffer: packed.gpuBuffer as unknown as GpuBuffer,
                    bytes: packed.size * 4,
                  },
                ])
              )[0]!,
            )
          : Float32Array.from(packed.data as Float32Array);
    } finally {
      // Releases ONNX Runtime's handle of the output; its buffer stays bound to the session.
      packed.dispose();
    }
    return Object.fromEntries(
      this.#outputs.map((output) => [
        output.name,
        new this.#ort.Tensor('float32', values.slice(output.offset, output.offset + output.size), [...output.dims]),
      ]),
    );
  }

  #write(input: Binding, value: Tensor | DeviceFeed | undefined): void {
    if (value === undefined) throw new Error(`unreachable: no value for the captured input "${input.name}"`);
    const dims = isDeviceFeed(value) ? value.dims : value.dims;
    if (dims.length !== input.dims.length || dims.some((d, axis) => d !== input.dims[axis])) {
      throw new Error(
        `unreachable: input "${input.name}" of shape [${dims.join(', ')}] for a session captured at [${input.dims.join(', ')}]`,
      );
    }
    if (isDeviceFeed(value)) {
      value.write(this.#device, input.buffer);
      return;
    }
    const data = value.data as ArrayBufferView;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // writeBuffer takes whole 4-byte words: a bool or uint8 input of odd length is padded.
    const padded =
      bytes.byteLength % 4 === 0 ? bytes : Uint8Array.from({ length: Math.ceil(bytes.byteLength / 4) * 4 }, (_, i) => bytes[i] ?? 0);
    this.#device.queue.writeBuffer(input.buffer, 0, padded);
  }
}

/** The name, type, static shape and bytes of each input or output, or an error naming the first that is not a tensor of static shape. */
function staticValues(
  metadata: readonly InferenceSession.ValueMetadata[] | undefined,
  names: readonly string[],
  kind: string,
): {
  name: string;
  type: Tensor.GpuBufferDataTypes;
  dims: number[];
  bytes: number;
}[] {
  if (metadata === undefined) throw new Error('this ONNX Runtime gives no input and output metadata');
  return names.map((name, i) => {
    const value = metadata[i];
    if (value === undefined || !value.isTensor || !value.shape.every((d): d is number => typeof d === 'number')) {
      throw new Error(`${kind} "${name}" has no static shape`);
    }
    const type = value.type;
    if (!isGpuBufferType(type)) throw new Error(`${kind} "${name}" is ${type}, which a GPU buffer cannot hold`);
    const dims = value.shape as number[];
    return {
      name,
      type,
      dims,
      bytes: dims.reduce((a, b) => a * b, ELEMENT_BYTES[type]),
    };
  });
}

function isGpuBufferType(type: Tensor.Type): type is Tensor.GpuBufferDataTypes {
  return Object.hasOwn(ELEMENT_BYTES, type);
}
