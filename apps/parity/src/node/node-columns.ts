import { onnxColumn } from '../suite/onnx-column.js';
import type { ColumnEntry } from '../suite/columns.js';
import { tfjsColumn } from '../suite/tfjs-column.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Gives Node a `navigator.gpu` from Dawn (the `webgpu` package), which must
 * exist before `@tensorflow/tfjs-backend-webgpu` loads. Without a GPU,
 * Vulkan is pointed at Chromium's SwiftShader. Returns why it failed, if it did.
 */
async function installWebGpu(): Promise<string | undefined> {
  if (!process.env['VK_ICD_FILENAMES'] && !process.env['VK_DRIVER_FILES']) process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
  process.env['XDG_RUNTIME_DIR'] ??= '/tmp';
  try {
    const { create, globals } = (await import('webgpu')) as {
      create(options: string[]): { requestAdapter(): Promise<unknown> };
      globals: object;
    };
    Object.assign(globalThis, globals);
    const gpu = create([]);
    if (!(await gpu.requestAdapter())) return 'Dawn found no WebGPU adapter (no Vulkan driver: set VK_ICD_FILENAMES)';
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    return undefined;
  } catch (error) {
    return `Dawn (the webgpu package) failed to load: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * What runs in Node: TF.js cpu, wasm and webgpu (Dawn), onnxruntime-node and
 * onnxruntime-web's wasm EP. WebGL and ONNX Runtime's WebGPU and WebGL EPs
 * need a browser: the Chromium run covers them.
 */
export async function nodeColumns(options: { webgpu: boolean }): Promise<ColumnEntry[]> {
  const webgpuProblem = options.webgpu
    ? await installWebGpu()
    : 'TF.js webgpu in Node (Dawn over SwiftShader) runs, but takes about 150 s for the five fixtures here, so it is left out of the default run: the Chromium run covers TF.js webgpu; pass --node-webgpu to run it';
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  if (!webgpuProblem) await import('@tensorflow/tfjs-backend-webgpu');
  const ortNode = await import('onnxruntime-node');
  const ortWeb = await import('onnxruntime-web');
  const webgpu = tfjsColumn(tf, 'webgpu', 'node');
  return [
    tfjsColumn(tf, 'cpu', 'node'),
    tfjsColumn(tf, 'wasm', 'node'),
    webgpuProblem ? { ...webgpu, unavailable: webgpuProblem } : webgpu,
    onnxColumn(ortNode, 'onnx-node', 'cpu (native)', undefined, 'node'),
    onnxColumn(ortWeb, 'onnx-wasm', 'wasm', 'wasm', 'node'),
  ];
}
