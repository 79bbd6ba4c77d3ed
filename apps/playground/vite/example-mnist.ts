import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Plugin } from 'vite';

/** Where the page finds the bundled example's files. */
export const EXAMPLE_URL_PREFIX = '/mnist/';

/** The example's files the page uses, relative to its folder: the model, the digits, the preset. */
const SERVED = ['model', 'digits', 'preprocess.json'];

const VIRTUAL_ID = 'virtual:example-mnist';
const RESOLVED_VIRTUAL_ID = `\0${VIRTUAL_ID}`;

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.png': 'image/png',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

function filesUnder(root: string, path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full)
    .sort()
    .flatMap((name) => filesUnder(root, join(path, name)));
}

/**
 * Serves the bundled MNIST example (`examples/mnist`: ONNX and TF.js models,
 * digit images, preprocessing preset) under `/mnist/` in dev and preview, and
 * copies it into the build, so the repository keeps one copy of those files.
 * `virtual:example-mnist` tells the page which digits there are.
 */
export function exampleMnist(exampleDir: string): Plugin {
  const files = () => SERVED.flatMap((path) => filesUnder(exampleDir, path)).map((f) => f.split(sep).join('/'));
  return {
    name: 'saliency:example-mnist',
    resolveId(id) {
      return id === VIRTUAL_ID ? RESOLVED_VIRTUAL_ID : undefined;
    },
    load(id) {
      if (id !== RESOLVED_VIRTUAL_ID) return undefined;
      const all = files();
      const missing = ['model/mnist.onnx', 'model/tfjs/model.json', 'preprocess.json'].filter((f) => !all.includes(f));
      if (missing.length > 0) {
        this.warn(`examples/mnist lacks ${missing.join(', ')}: the bundled model will not load`);
      }
      const digits = all.filter((f) => f.startsWith('digits/') && f.endsWith('.png'));
      return `export const EXAMPLE_URL = ${JSON.stringify(EXAMPLE_URL_PREFIX)};
export const DIGITS = ${JSON.stringify(digits)};`;
    },
    configureServer(server) {
      server.middlewares.use(EXAMPLE_URL_PREFIX, (req, res, next) => {
        const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/').replace(/^\/+/, '');
        if (!files().includes(path)) return next();
        const ext = path.slice(path.lastIndexOf('.'));
        res.setHeader('Content-Type', CONTENT_TYPES[ext] ?? 'application/octet-stream');
        res.end(readFileSync(join(exampleDir, path)));
      });
    },
    generateBundle() {
      for (const path of files()) {
        this.emitFile({
          type: 'asset',
          fileName: relative('/', join(EXAMPLE_URL_PREFIX, path)).split(sep).join('/'),
          source: readFileSync(join(exampleDir, path)),
        });
      }
    },
  };
}
