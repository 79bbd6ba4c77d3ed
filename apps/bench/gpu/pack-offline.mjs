// Packs everything the GPU benchmark needs into one folder, for a Linux
// x86-64 NVIDIA machine that cannot reach a package registry: this Node
// binary, the built packages, the benchmark app, the runtime dependencies it
// loads on a GPU (pruned to the files those load), the small fixture models,
// and the Debian packages of the Vulkan loader and glvnd that Dawn needs.
// ResNet-18 (47 MB of weights) is left out: the GPU machine exports it with
// its own PyTorch (src/torch/export_models.py).
//
//   npx turbo run build --filter=./packages/*
//   node apps/bench/gpu/pack-offline.mjs OUT_DIR [--no-debs]
//
// Then on the GPU machine: bash OUT_DIR/repo/apps/bench/gpu/run-offline.sh
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NODE_MODULES = join(ROOT, 'node_modules');
const WORKSPACES = ['core', 'backend-onnx', 'backend-tfjs'];
/** What the GPU engines load; the CPU-only runtimes (onnxruntime-node, TF.js wasm) stay behind. */
const ENTRY_DEPENDENCIES = [
  '@saliency/core',
  '@saliency/backend-onnx',
  '@saliency/backend-tfjs',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-webgpu',
  'onnxruntime-web',
  'webgpu',
];
/** Files kept of packages whose published folder is mostly other builds of the same code. */
const KEEP_ONLY = {
  'onnxruntime-web': [
    'package.json',
    'dist/ort.webgpu.bundle.min.mjs',
    'dist/ort.all.bundle.min.mjs',
    'dist/ort-wasm-simd-threaded.asyncify.wasm',
    'dist/ort-wasm-simd-threaded.jsep.wasm',
  ],
  webgpu: ['package.json', 'index.js', `dist/linux-x64/dawn.node`],
};
/** Dawn's Vulkan loader and glvnd (environment notes: without glvnd the loader fails). */
const DEBS = ['libvulkan1', 'libegl1', 'libglvnd0', 'libopengl0', 'libgl1', 'libglx0', 'libgles2'];

function packageDir(name) {
  return join(NODE_MODULES, name);
}

/** The runtime dependency closure of the entry packages, as package name → folder. */
function closure(names) {
  const found = new Map();
  const visit = (name) => {
    if (found.has(name)) return;
    const dir = packageDir(name);
    if (!existsSync(join(dir, 'package.json'))) throw new Error(`${name} is not installed in ${NODE_MODULES}: run npm ci first`);
    found.set(name, dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) visit(dependency);
  };
  names.forEach(visit);
  return found;
}

/** The files of one package worth copying: for TF.js only its Node build (its `main`). */
function keptFiles(name, dir) {
  if (name in KEEP_ONLY) return KEEP_ONLY[name];
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (name.startsWith('@tensorflow/')) return ['package.json', manifest.main];
  if (name.startsWith('@saliency/')) return ['package.json', 'dist'];
  return null; // everything but source maps and type declarations
}

function copyPackage(name, from, to) {
  const files = keptFiles(name, from);
  if (files) {
    for (const file of files) cpSync(join(from, file), join(to, file), { recursive: true, dereference: true });
  } else {
    cpSync(from, to, {
      recursive: true,
      dereference: true,
      filter: (path) => !/\.(map|d\.ts|d\.mts|ts)$/.test(path) && !path.endsWith('/node_modules/.bin'),
    });
  }
}

function sizeOf(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0);
}

function main() {
  const [out, ...flags] = process.argv.slice(2);
  if (!out) throw new Error('usage: node apps/bench/gpu/pack-offline.mjs OUT_DIR [--no-debs]');
  for (const workspace of WORKSPACES) {
    if (!existsSync(join(ROOT, 'packages', workspace, 'dist')))
      throw new Error(`packages/${workspace}/dist is missing: run npx turbo run build --filter=./packages/* first`);
  }
  rmSync(out, { recursive: true, force: true });
  const repo = join(out, 'repo');

  // The benchmark app (not its results) and the model code it imports.
  for (const file of ['package.json', 'apps/bench/package.json', 'apps/bench/src', 'apps/bench/gpu', 'python/saliency_reference']) {
    cpSync(join(ROOT, file), join(repo, file), { recursive: true });
  }
  for (const model of ['mlp', 'cnn1d']) {
    const file = `packages/backend-onnx/test/fixtures/models/${model}.onnx`;
    if (existsSync(join(ROOT, file))) cpSync(join(ROOT, file), join(repo, file));
  }

  for (const [name, dir] of closure(ENTRY_DEPENDENCIES)) copyPackage(name, dir, join(repo, 'node_modules', name));

  mkdirSync(join(out, 'bin'), { recursive: true });
  cpSync(process.execPath, join(out, 'bin', 'node'));

  if (!flags.includes('--no-debs')) {
    const debs = join(out, 'debs');
    mkdirSync(debs, { recursive: true });
    execFileSync('apt-get', ['download', ...DEBS], { cwd: debs, stdio: 'inherit' });
  }
  writeFileSync(
    join(out, 'README'),
    `Made by apps/bench/gpu/pack-offline.mjs on ${new Date().toISOString()} from ${execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()}.\nRun: bash repo/apps/bench/gpu/run-offline.sh\n`,
  );
  console.log(
    `packed ${relative(process.cwd(), out) || out}: ${(sizeOf(out) / 2 ** 20).toFixed(0)} MiB (${dirname(process.execPath)}/node ${process.version})`,
  );
}

main();
