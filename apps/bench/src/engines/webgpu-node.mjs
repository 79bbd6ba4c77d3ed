// navigator.gpu for Node from Dawn (the `webgpu` npm package), as
// /work/shared/notes/environment.md describes. On a Linux NVIDIA machine
// Dawn needs the Vulkan loader, glvnd and the driver's ICD file
// (VK_DRIVER_FILES): gpu/run-gpu-bench.sh sets them.
let installed;

/** Installs Dawn's WebGPU globals and `navigator.gpu` once; returns the adapter's description. */
export async function installWebGpu() {
  installed ??= (async () => {
    let dawn;
    try {
      dawn = await import('webgpu');
    } catch (error) {
      throw new Error(`WebGPU in Node needs the "webgpu" npm package (Dawn): ${error.message}`, { cause: error });
    }
    Object.assign(globalThis, dawn.globals);
    copySharedWrites(dawn.globals.GPUQueue);
    const gpu = dawn.create([]);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter)
      throw new Error('navigator.gpu.requestAdapter() returned null: no WebGPU adapter (check VK_DRIVER_FILES and the Vulkan loader)');
    const info = adapter.info ?? {};
    return `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`.trim();
  })();
  return installed;
}

/**
 * Dawn's Node binding refuses `queue.writeBuffer` from a view of a
 * SharedArrayBuffer ("no overload matched for writeBuffer"), which is what
 * onnxruntime-web's threaded builds hand it (their wasm memory is shared):
 * such data is copied to a plain buffer first.
 */
function copySharedWrites(GPUQueue) {
  const writeBuffer = GPUQueue.prototype.writeBuffer;
  GPUQueue.prototype.writeBuffer = function (buffer, offset, data, dataOffset, size) {
    const shared =
      typeof SharedArrayBuffer !== 'undefined' && (data instanceof SharedArrayBuffer || data?.buffer instanceof SharedArrayBuffer);
    if (shared) data = ArrayBuffer.isView(data) ? data.slice() : new Uint8Array(data).slice().buffer;
    return writeBuffer.call(this, buffer, offset, data, ...[dataOffset, size].filter((v) => v !== undefined));
  };
}
