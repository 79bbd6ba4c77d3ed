import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { exampleMnist } from './vite/example-mnist.js';
import { minifyExceptTfjsWasm } from './vite/unminified-wasm-backend.js';

/**
 * Cross-origin isolation lets onnxruntime-web and TF.js's wasm backend use
 * threads (SharedArrayBuffer); without it both run on one thread.
 */
export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [exampleMnist(fileURLToPath(new URL('../../examples/mnist', import.meta.url))), minifyExceptTfjsWasm()],
  server: { headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
  // Pre-bundling would move onnxruntime-web away from its .wasm files, which it
  // finds next to itself (`new URL(..., import.meta.url)`, which Vite's build handles).
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  // Minified by minifyExceptTfjsWasm: every chunk but TF.js's wasm backend's.
  build: { target: 'es2022', chunkSizeWarningLimit: 4096, minify: false },
  worker: { format: 'es' },
});
