import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../src/npy.js';
import { bin, repoRoot } from './helpers.js';

/*
 * The two hostile ONNX files of docs/bad-inputs.md ("Hostile models"), made
 * by backend-onnx's script, through the built command: each must end in one
 * coded line on stderr and exit code 3 (a model that cannot be run as it is), with the process's peak RSS under
 * 200 MB (before the checks, the first took a RangeError with a stack trace
 * and the second 24 GB of memory).
 */

const dir = mkdtempSync(join(tmpdir(), 'saliency-hostile-'));
const made = spawnSync(process.execPath, [join(repoRoot, 'packages/backend-onnx/scripts/make-hostile-models.mjs'), dir], {
  encoding: 'utf8',
});
if (made.status !== 0) throw new Error(`make-hostile-models.mjs failed: ${made.stderr}`);

/** Runs the command in a Node process that records its peak RSS (getrusage) as it exits. */
function measured(args: readonly string[]) {
  const rssFile = join(dir, `rss-${Math.random().toString(36).slice(2)}`);
  const wrapper =
    `import { writeFileSync } from 'node:fs';` +
    `process.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS * 1024)));` +
    `process.argv.splice(1, 0, ${JSON.stringify(bin)}); await import(${JSON.stringify(bin)});`;
  const started = Date.now();
  // The bound is for a hang on a loaded machine, not a timing check: the runs take about a second.
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', wrapper, '--', ...args], { encoding: 'utf8', timeout: 60_000 });
  const seconds = (Date.now() - started) / 1000;
  return { status: result.status, signal: result.signal, stderr: result.stderr, peakRss: Number(readFileSync(rssFile, 'utf8')), seconds };
}

describe('hostile model files: one coded line, exit code 3, under 200 MB', () => {
  it.each([
    [
      'huge-initializer.onnx',
      100000,
      /^saliency: --model .*huge-initializer\.onnx: initializer: tensor "w" declares 10,000,000,000 float32 values \(shape \[100000, 100000\]\), 40,000,000,000 bytes, but holds 4 bytes of data\n$/,
    ],
    [
      'huge-constant.onnx',
      1,
      /^saliency: --model .*huge-constant\.onnx: ConstantOfShape node "huge_constant": folding a constant of shape \[1, 2000000000\] would hold 2,000,000,000 elements, over the budget maxFoldedElements = 4,194,304; .*\n$/,
    ],
  ])('%s', (file, width, message) => {
    const input = join(dir, `${file}.npy`);
    writeFileSync(input, writeNpy(new Float32Array(width), [width]));
    const run = measured([
      '--model',
      join(dir, file),
      '--input',
      input,
      '--method',
      'gradient',
      '--target',
      '0',
      '--raw',
      join(dir, `${file}-map.npy`),
    ]);
    console.log(`${file}: exit ${run.status}, ${run.seconds.toFixed(2)} s, peak RSS ${(run.peakRss / 1e6).toFixed(0)} MB`);
    expect(run.signal).toBeNull();
    expect(run.stderr).toMatch(message);
    expect(run.status).toBe(3);
    expect(run.peakRss).toBeLessThan(200e6);
  });
});
