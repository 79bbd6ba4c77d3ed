import { deviceNoiseAgreement as compareWithCore, type DeviceNoiseAgreement, type NoiseDescription } from '@saliency/core';
import type { Tensor } from 'onnxruntime-common';
import { createBuffer, TENSOR_BUFFER_USAGE, type GpuBuffer, type GpuDevice } from '../device-noise/gpu-device.js';
import { deviceNoiseGenerator, noisyRowsBytes, writeNoisyRows } from '../device-noise/noise-passes.js';
import type { ExecutionProvider } from '../execution-provider/execution-provider.js';
import type { OnnxRuntimeModule } from './onnx-runtime-module.js';

/**
 * Whether this ONNX Runtime module can take core's noise made on its device
 * (docs/methods.md, "Noise"): its WebGPU EP, with GPU-buffer tensors and the
 * GPUDevice it runs on exposed (`env.webgpu.device`), in a JavaScript engine
 * with WebGPU. ONNX Runtime has no WebGPU kernels for the bitwise and
 * 64-bit integer ops Philox needs and no custom kernels from JavaScript, so
 * the noise is a compute pass of our own on that device, whose output buffer
 * is bound as the gradient graph's input. The WebGL EP has no such binding
 * for its inputs, so it receives the rows from the host.
 */
export function hasDeviceNoise(ort: OnnxRuntimeModule, executionProvider: ExecutionProvider): boolean {
  return (
    executionProvider === 'webgpu' &&
    typeof ort.Tensor.fromGpuBuffer === 'function' &&
    // env.webgpu gets its `device` getter only once the WebGPU EP starts (the first session), so it is not looked for here.
    ort.env?.webgpu !== undefined &&
    typeof navigator !== 'undefined' &&
    (navigator as { gpu?: unknown }).gpu !== undefined
  );
}

/** The GPUDevice ONNX Runtime's WebGPU EP runs on (its own, once a WebGPU session exists). */
export async function webgpuDevice(ort: OnnxRuntimeModule, who: string): Promise<GpuDevice> {
  const device = (await ort.env?.webgpu?.device) as GpuDevice | undefined;
  if (device === undefined || device === null || typeof device.createBuffer !== 'function') {
    throw new Error(`${who}: ONNX Runtime's env.webgpu.device gave no GPUDevice`);
  }
  return device;
}

/**
 * An input made on ONNX Runtime's WebGPU device rather than uploaded: the
 * backend places it, in a buffer of its own for one run, or in the input
 * buffer a captured session keeps (`graph-capture.ts`).
 */
export interface DeviceFeed {
  readonly dims: readonly number[];
  readonly bytes: number;
  /** Writes the values into `destination` (a storage buffer of at least `bytes`) on `device`'s queue. */
  write(device: GpuDevice, destination: GpuBuffer): void;
}

export function isDeviceFeed(value: Tensor | DeviceFeed): value is DeviceFeed {
  return typeof (value as Partial<DeviceFeed>).write === 'function';
}

/** The input `[G·n, ...S]` of the rows `noise` describes for the clean examples `clean`, made on the device. */
export function noisyRowsFeed(clean: Float32Array, noise: NoiseDescription): DeviceFeed {
  return {
    dims: [noise.sigma.length * noise.samples, ...noise.exampleShape],
    bytes: noisyRowsBytes(noise),
    write: (device, destination) => writeNoisyRows(device, clean, noise, destination),
  };
}

/** Calls that take turns: each starts when the one before has settled. */
export class Turns {
  #last: Promise<unknown> = Promise.resolve();

  take<T>(work: () => Promise<T>): Promise<T> {
    const call = this.#last.then(work);
    this.#last = call.catch(() => undefined);
    return call;
  }
}

/**
 * The buffers a session that is not captured takes its device-made inputs
 * in: one per input, made at its first run and reused after, the runs
 * taking turns. A new buffer per run would do for ONNX Runtime, except that
 * its JSEP build (onnxruntime-web 1.30) checks a new input buffer against
 * the capture state of the session that ran last, and refuses it
 * ("Registering a different external buffer under graph capture mode") once
 * a captured session (`graph-capture.ts`) has run on the module.
 */
export class DeviceInputs {
  readonly #held = new Map<string, { buffer: GpuBuffer; tensor: Tensor }>();
  readonly turns = new Turns();

  /** A GPU-buffer tensor of input `name` holding `feed`'s values (written on the device). */
  async tensor(ort: OnnxRuntimeModule, name: string, feed: DeviceFeed, who: string): Promise<Tensor> {
    const device = await webgpuDevice(ort, who);
    let held = this.#held.get(name);
    if (held === undefined) {
      const buffer = createBuffer(device, feed.bytes, TENSOR_BUFFER_USAGE);
      held = { buffer, tensor: ort.Tensor.fromGpuBuffer!(buffer, { dataType: 'float32', dims: feed.dims }) };
      this.#held.set(name, held);
    }
    feed.write(device, held.buffer);
    return held.tensor;
  }

  release(): void {
    for (const { buffer } of this.#held.values()) buffer.destroy();
    this.#held.clear();
  }
}

/**
 * How the noise this package makes on ONNX Runtime's WebGPU device agrees
 * with core's generator: 4096 Philox words bit for bit, 3 × 4099 normals in
 * ulps (core's `deviceNoiseAgreement`). The device is the one `ort`'s WebGPU
 * EP runs on (created by this call when no WebGPU session exists yet).
 */
export async function deviceNoiseAgreement(ort: OnnxRuntimeModule): Promise<DeviceNoiseAgreement> {
  return compareWithCore(deviceNoiseGenerator(await webgpuDevice(ort, 'deviceNoiseAgreement')));
}
