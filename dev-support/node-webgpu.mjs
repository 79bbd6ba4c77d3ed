// WebGPU in Node from Dawn (the `webgpu` npm package), as
// /work/shared/notes/environment.md describes: without a GPU, Vulkan is
// pointed at Chromium's SwiftShader (Debian's chromium package ships it).
import { existsSync } from 'node:fs';

const CHROMIUM_LIBS = '/usr/lib/chromium';

/**
 * Where Debian's libvulkan1 is missing, adds Chromium's own copy (beside its
 * SwiftShader) to LD_LIBRARY_PATH. Call it in a Vitest config, before the
 * test processes start: the dynamic loader reads the variable then.
 */
export function useChromiumVulkanLoader() {
  if (!existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1') && existsSync(`${CHROMIUM_LIBS}/libvulkan.so.1`)) {
    process.env['LD_LIBRARY_PATH'] = [process.env['LD_LIBRARY_PATH'], CHROMIUM_LIBS].filter(Boolean).join(':');
  }
}

/**
 * Installs Dawn's WebGPU globals and `navigator.gpu` (once), before a WebGPU
 * library loads; returns the adapter Dawn gives, or throws if it gives none.
 */
export async function installNodeWebGpu() {
  process.env['VK_ICD_FILENAMES'] ??= `${CHROMIUM_LIBS}/vk_swiftshader_icd.json`;
  process.env['XDG_RUNTIME_DIR'] ??= '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  copySharedWrites(globals.GPUQueue);
  const gpu = create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new Error(
      `Dawn found no WebGPU adapter (VK_ICD_FILENAMES=${process.env['VK_ICD_FILENAMES']}); install Debian's chromium for SwiftShader`,
    );
  }
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  return adapter;
}

/**
 * Dawn's Node binding refuses `queue.writeBuffer` from a view of a
 * SharedArrayBuffer ("no overload matched for writeBuffer"), which is what
 * onnxruntime-web's threaded builds hand it (their wasm memory is shared):
 * such data is copied to a plain buffer first (as apps/bench does).
 */
function copySharedWrites(GPUQueue) {
  const writeBuffer = GPUQueue.prototype.writeBuffer;
  if (writeBuffer.copiesSharedWrites) return;
  const copying = function (buffer, offset, data, ...rest) {
    const shared =
      typeof SharedArrayBuffer !== 'undefined' && (data instanceof SharedArrayBuffer || data?.buffer instanceof SharedArrayBuffer);
    if (shared) data = ArrayBuffer.isView(data) ? data.slice() : new Uint8Array(data).slice().buffer;
    return writeBuffer.call(this, buffer, offset, data, ...rest.filter((v) => v !== undefined));
  };
  copying.copiesSharedWrites = true;
  GPUQueue.prototype.writeBuffer = copying;
}
