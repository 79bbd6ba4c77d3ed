import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { exampleMnist } from './vite/example-mnist.js';

/**
 * Cross-origin isolation lets onnxruntime-web and TF.js's wasm backend use
 * threads (SharedArrayBuffer); without it both run on one thread.
 */
export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [exampleMnist(fileURLToPath(new URL('../../examples/mnist', import.meta.url)))],
  server: { headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
  // Pre-bundling would move onnxruntime-web away from its .wasm files, which it
  // finds next to itself (`new URL(..., import.meta.url)`, which Vite's build handles).
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  worker: { format: 'es' },
});
