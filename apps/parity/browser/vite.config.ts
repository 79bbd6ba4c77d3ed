import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The page of the Chromium run, built to dist/browser; the wasm files are served beside it (src/node/static-server.ts). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/browser', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 8000,
  },
});
