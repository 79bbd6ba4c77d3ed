import { minify, type Plugin } from 'vite';

/**
 * Minifies every chunk of the build except those holding TF.js's wasm
 * backend. That backend starts its threaded workers from the source text of
 * a function of its own (`Function.prototype.toString()` into a Blob): a
 * minifier renames what that function refers to outside itself, and each
 * worker then fails with `ReferenceError: e is not defined`. Use with
 * `build.minify: false`, which this plugin takes over.
 */
export function minifyExceptTfjsWasm(): Plugin {
  return {
    name: 'saliency:minify-except-tfjs-wasm',
    apply: 'build',
    async renderChunk(code, chunk) {
      if (chunk.moduleIds.some((id) => id.includes('/@tensorflow/tfjs-backend-wasm/'))) return null;
      const result = await minify(chunk.fileName, code, { compress: true, mangle: true });
      return { code: result.code, map: result.map ?? null };
    },
  };
}
