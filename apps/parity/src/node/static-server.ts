import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
};

const require = createRequire(import.meta.url);

/** The folders the parity page is served from, by URL prefix. */
export function servedFolders(pageDir: string, fixturesDir: string): Record<string, string> {
  return {
    '/fixtures/': fixturesDir,
    '/ort/': dirname(require.resolve('onnxruntime-web')), // its dist/: every .wasm and .mjs variant
    '/tfjs-wasm/': dirname(require.resolve('@tensorflow/tfjs-backend-wasm')),
    '/': pageDir,
  };
}

/**
 * A static file server on 127.0.0.1 with the cross-origin isolation headers
 * (COOP/COEP) that wasm threads need (SharedArrayBuffer).
 */
export async function startStaticServer(folders: Record<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    void (async () => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
      const prefix = Object.keys(folders).find((p) => path.startsWith(p));
      const root = prefix && folders[prefix];
      const file = root && normalize(join(root, path.slice(prefix.length) || 'index.html'));
      const headers = {
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cache-Control': 'no-store',
      };
      if (
        !file ||
        !(file === root || file.startsWith(root.endsWith(sep) ? root : root + sep)) ||
        !(await stat(file).then(
          (s) => s.isFile(),
          () => false,
        ))
      ) {
        response.writeHead(404, headers).end(`not found: ${path}`);
        return;
      }
      response.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(response);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the static server has no port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
