#!/usr/bin/env node
// Release check: packs every publishable package with `npm pack`, installs the
// tarballs with the runtimes from the registry into a fresh project outside the
// repository, and there runs the README's usage (VarGrad on the MNIST ONNX and
// TF.js models), a type check of the public API against the packed .d.ts files,
// and the CLI's bin. Catches what workspace links hide: wrong `exports`,
// `types` or `files`, and dependencies that are only present in the monorepo.
//
//   node scripts/pack-and-install-test.mjs [--skip-build] [--keep]
//
// --skip-build: use the packages' dist/ as they are; --keep: leave the temporary project.
// Never touches the repository's node_modules; exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./pack-test/', import.meta.url));
const MNIST = join(REPO, 'examples/mnist');
/** The publishable packages, as directories under packages/. */
const PACKAGES = ['core', 'backend-tfjs', 'backend-onnx', 'cli'];
/** What a user installs beside them (the README's runtimes) and what this check itself uses. */
const REGISTRY_DEPENDENCIES = [
  '@tensorflow/tfjs@^4.22.0',
  'onnxruntime-node@^1.30.0',
  'pngjs@^7.0.0',
  'typescript@~5.9.3',
  '@types/node@^20.19.0',
];

const args = new Set(process.argv.slice(2));
const started = performance.now();

function step(message) {
  console.log(`\n[pack-test +${((performance.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

/** Runs a command, echoing it; its output goes to this process's. Throws on a non-zero exit. */
function run(command, commandArgs, options = {}) {
  console.log(`$ ${[command, ...commandArgs].join(' ')}${options.cwd ? `   (in ${options.cwd})` : ''}`);
  const result = spawnSync(command, commandArgs, {
    stdio: options.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
    ...options,
  });
  if (result.status !== 0) {
    throw new Error(`${command} ${commandArgs.join(' ')} exited with ${result.status ?? result.signal}`);
  }
  return result.stdout;
}

/**
 * Declarations whose own errors are not ours: TF.js 4.22's .d.ts files do not
 * compile under `strict` with skipLibCheck off (`Long`, LayersModel vs InferenceModel).
 */
const FOREIGN_DECLARATIONS = /^node_modules\/@tensorflow\//;

/**
 * `tsc --noEmit` with skipLibCheck off, so that the packed .d.ts files are
 * checked under a strict consumer's settings too; errors inside
 * FOREIGN_DECLARATIONS are listed but do not fail the check.
 */
function typeCheck(cwd) {
  console.log('$ npx tsc --noEmit -p tsconfig.json');
  const result = spawnSync('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'], { cwd, encoding: 'utf8' });
  const errors = [];
  for (const line of `${result.stdout}${result.stderr}`.split('\n')) {
    if (/^\S.*\(\d+,\d+\): error TS/.test(line)) errors.push(line);
    else if (line.trim() && errors.length > 0) errors[errors.length - 1] += `\n${line}`;
  }
  const foreign = errors.filter((e) => FOREIGN_DECLARATIONS.test(e));
  const ours = errors.filter((e) => !FOREIGN_DECLARATIONS.test(e));
  if (foreign.length > 0) console.log(`  ignored ${foreign.length} error(s) inside TF.js's own declarations`);
  if (ours.length > 0 || (result.status !== 0 && errors.length === 0)) {
    console.error(ours.join('\n') || `${result.stdout}${result.stderr}`);
    throw new Error(`tsc found ${ours.length} error(s) in the public API's types`);
  }
  console.log('  tsc: no errors in the public API');
}

const work = mkdtempSync(join(tmpdir(), 'saliency-pack-test-'));
const tarballs = join(work, 'tarballs');
const project = join(work, 'project');
let failed = false;
try {
  if (!args.has('--skip-build')) {
    step('building the packages');
    run('npx', ['turbo', 'run', 'build', '--filter=./packages/*', '--output-logs=errors-only'], { cwd: REPO });
  }

  step(`packing ${PACKAGES.map((p) => `@saliency/${p}`).join(', ')} into ${tarballs}`);
  mkdirSync(tarballs);
  const packed = [];
  for (const name of PACKAGES) {
    const dir = join(REPO, 'packages', name);
    const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tarballs], { cwd: dir, capture: true }));
    const files = new Set(info.files.map((f) => f.path));
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    // Every file the manifest points at must be in the tarball.
    const pointed = [manifest.main, manifest.types, ...Object.values(manifest.bin ?? {})];
    for (const entry of Object.values(manifest.exports ?? {})) {
      pointed.push(...(typeof entry === 'string' ? [entry] : Object.values(entry)));
    }
    const missing = pointed
      .filter(Boolean)
      .map((p) => p.replace(/^\.\//, ''))
      .filter((p) => !files.has(p));
    if (missing.length > 0) throw new Error(`${info.name}: the tarball lacks ${missing.join(', ')}, which package.json points at`);
    console.log(`  ${info.filename}: ${info.entryCount} files, ${(info.size / 1024).toFixed(0)} KiB`);
    packed.push(join(tarballs, info.filename));
  }

  step(`creating a fresh project in ${project}`);
  cpSync(FIXTURES, project, { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'saliency-pack-test', private: true, type: 'module' }, null, 2)}\n`,
  );
  for (const file of ['model/mnist.onnx', 'model/tfjs', 'model/samples.json', 'digits/3-0.png']) {
    if (!existsSync(join(MNIST, file))) throw new Error(`examples/mnist/${file} is missing (run examples/mnist's train.py)`);
    cpSync(join(MNIST, file), join(project, 'mnist', file), { recursive: true });
  }

  step('installing the tarballs and the runtimes from the registry');
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...packed, ...REGISTRY_DEPENDENCIES], {
    cwd: project,
    // onnxruntime-node's install script would download CUDA files; its CPU binaries are in the package.
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_onnxruntime_node_install: 'skip' },
  });

  step("running the README's usage: VarGrad on the MNIST model, ONNX Runtime and TF.js");
  run('node', ['readme-usage.mjs'], { cwd: project });

  step('type-checking the public API against the packed declarations (tsc --noEmit, skipLibCheck off)');
  typeCheck(project);

  step("running the CLI's bin");
  run(join(project, 'node_modules/.bin/saliency'), ['--help'], { cwd: project, capture: true });
  console.log('  saliency --help: ok');

  step('passed');
} catch (error) {
  failed = true;
  console.error(`\n[pack-test] FAILED: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  if (args.has('--keep') || failed) {
    console.log(`[pack-test] the temporary project is kept in ${project}`);
  } else {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`[pack-test] ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
process.exit(failed ? 1 : 0);
