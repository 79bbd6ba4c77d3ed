/**
 * Gives Node a `navigator.gpu` from Dawn (the `webgpu` package) before
 * `@tensorflow/tfjs-backend-webgpu` loads. Without a GPU, Vulkan is pointed
 * at Chromium's SwiftShader (Debian's chromium package ships it).
 */
export async function installNodeWebGpu(): Promise<void> {
  process.env['VK_ICD_FILENAMES'] ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
  process.env['XDG_RUNTIME_DIR'] ??= '/tmp';
  const { create, globals } = (await import('webgpu')) as {
    create(options: string[]): { requestAdapter(): Promise<unknown> };
    globals: object;
  };
  Object.assign(globalThis, globals);
  const gpu = create([]);
  if (!(await gpu.requestAdapter())) {
    throw new Error(
      `Dawn found no WebGPU adapter (VK_ICD_FILENAMES=${process.env['VK_ICD_FILENAMES']}); install Debian's chromium for SwiftShader`,
    );
  }
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
}
