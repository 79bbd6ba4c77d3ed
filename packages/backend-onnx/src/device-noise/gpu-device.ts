/**
 * The parts of WebGPU's `GPUDevice` that the noise passes use, as
 * structures: the package is built without WebGPU's type declarations, and
 * the device is ONNX Runtime's own (`env.webgpu.device`), handed in.
 */
export interface GpuBuffer {
  readonly size: number;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

interface GpuBindGroupLayout {
  readonly __brand?: 'GPUBindGroupLayout';
}

interface GpuComputePipeline {
  getBindGroupLayout(index: number): GpuBindGroupLayout;
}

interface GpuComputePass {
  setPipeline(pipeline: GpuComputePipeline): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

interface GpuCommandEncoder {
  beginComputePass(): GpuComputePass;
  copyBufferToBuffer(source: GpuBuffer, sourceOffset: number, destination: GpuBuffer, destinationOffset: number, size: number): void;
  finish(): unknown;
}

export interface GpuDevice {
  readonly limits: { readonly maxComputeWorkgroupsPerDimension: number };
  createBuffer(descriptor: { size: number; usage: number }): GpuBuffer;
  createShaderModule(descriptor: { code: string }): unknown;
  createComputePipeline(descriptor: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): GpuComputePipeline;
  createBindGroup(descriptor: { layout: GpuBindGroupLayout; entries: { binding: number; resource: { buffer: GpuBuffer } }[] }): unknown;
  createCommandEncoder(): GpuCommandEncoder;
  readonly queue: {
    writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferView): void;
    submit(commands: unknown[]): void;
  };
}

/** WebGPU's `GPUBufferUsage` flags and `GPUMapMode.READ` (fixed by the WebGPU specification). */
export const BUFFER_USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_MODE_READ = 0x1;

/** A buffer of `bytes` (rounded up to WebGPU's 4-byte copies, at least 16) for `usage`. */
export function createBuffer(device: GpuDevice, bytes: number, usage: number): GpuBuffer {
  return device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
}

/** The usage of a buffer that ONNX Runtime reads or writes as a tensor: it may also copy it. */
export const TENSOR_BUFFER_USAGE = BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST;

/** A new tensor buffer of `bytes` that `write` fills; the caller owns it (it is destroyed if `write` throws). */
export function filledBuffer(device: GpuDevice, bytes: number, write: (buffer: GpuBuffer) => void): GpuBuffer {
  const buffer = createBuffer(device, bytes, TENSOR_BUFFER_USAGE);
  try {
    write(buffer);
  } catch (error) {
    buffer.destroy();
    throw error;
  }
  return buffer;
}

/** A storage (or uniform) buffer holding `data`, uploaded. */
export function uploadedBuffer(device: GpuDevice, data: Float32Array | Uint32Array, usage: number): GpuBuffer {
  const buffer = createBuffer(device, data.byteLength, usage | BUFFER_USAGE.COPY_DST);
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/** The first `bytes` of `source` copied to the host. */
export async function readBack(device: GpuDevice, source: GpuBuffer, bytes: number): Promise<ArrayBuffer> {
  const [copy] = await readBackAll(device, [{ buffer: source, bytes }]);
  return copy!;
}

/** The first `bytes` of each buffer copied to the host: one submission, the stagings mapped together. */
export async function readBackAll(device: GpuDevice, sources: readonly { buffer: GpuBuffer; bytes: number }[]): Promise<ArrayBuffer[]> {
  const stagings = sources.map(({ bytes }) => createBuffer(device, bytes, BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST));
  try {
    const encoder = device.createCommandEncoder();
    sources.forEach(({ buffer }, i) => encoder.copyBufferToBuffer(buffer, 0, stagings[i]!, 0, stagings[i]!.size));
    device.queue.submit([encoder.finish()]);
    await Promise.all(stagings.map((staging) => staging.mapAsync(MAP_MODE_READ)));
    return stagings.map((staging, i) => {
      const copy = staging.getMappedRange().slice(0, sources[i]!.bytes);
      staging.unmap();
      return copy;
    });
  } finally {
    for (const staging of stagings) staging.destroy();
  }
}

/**
 * Runs the compute shader `code` (entry point `main`, workgroups of 64
 * invocations) over `invocations` invocations with `buffers` bound at
 * bindings 0, 1, … of group 0. Workgroups beyond the per-dimension limit go
 * to the second dimension; the shader numbers an invocation
 * `id.x + id.y · num_workgroups.x · 64`.
 */
export function dispatch(device: GpuDevice, code: string, buffers: readonly GpuBuffer[], invocations: number): void {
  const pipeline = computePipeline(device, code);
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const workgroups = Math.max(1, Math.ceil(invocations / WORKGROUP_SIZE));
  const limit = device.limits.maxComputeWorkgroupsPerDimension;
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(Math.min(workgroups, limit), Math.ceil(workgroups / limit));
  pass.end();
  device.queue.submit([encoder.finish()]);
}

export const WORKGROUP_SIZE = 64;

/** Compiled once per device and shader: a pipeline outlives the calls, and dies with its device. */
const pipelines = new WeakMap<GpuDevice, Map<string, GpuComputePipeline>>();

function computePipeline(device: GpuDevice, code: string): GpuComputePipeline {
  let byCode = pipelines.get(device);
  if (byCode === undefined) {
    byCode = new Map();
    pipelines.set(device, byCode);
  }
  let pipeline = byCode.get(code);
  if (pipeline === undefined) {
    pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: {
        module: device.createShaderModule({ code }),
        entryPoint: 'main',
      },
    });
    byCode.set(code, pipeline);
  }
  return pipeline;
}
