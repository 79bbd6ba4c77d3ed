import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProgressBar, formatDuration, formatProgressLine } from '../src/progress.js';
import { bin, cliRoot, mnist, saliency } from './helpers.js';

const args = [
  '--model',
  mnist.onnx,
  '--input',
  mnist.digit('7-3'),
  '--preset',
  mnist.preset,
  '--num-samples',
  '16',
  '--batch-size',
  '4',
  '--raw',
];

describe('progress bar', () => {
  it('formats done/total, percent and the extrapolated time left', () => {
    // 4 of 16 rows in 3 s → 3 · 12 / 4 = 9 s left; 6 of 24 cells filled
    expect(formatProgressLine('vargrad', 4, 16, 3)).toBe('vargrad [######------------------] 4/16 rows  25%  eta 9s');
    expect(formatProgressLine('vargrad', 0, 16, 0, 24, 'samples')).toBe('vargrad [------------------------] 0/16 samples   0%  eta --');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(Number.NaN)).toBe('--');
  });

  it('draws only on a terminal', () => {
    const written: string[] = [];
    const tty = createProgressBar({ isTTY: true, write: (t) => written.push(t) }, 'm', () => 0);
    tty.update({ done: 1, total: 2 });
    tty.finish();
    expect(written).toEqual(['\rm [############------------] 1/2 rows  50%  eta 0s', '\n']);
    const silent: string[] = [];
    const pipe = createProgressBar({ isTTY: false, write: (t) => silent.push(t) }, 'm');
    pipe.update({ done: 1, total: 2 });
    pipe.finish();
    expect(silent).toEqual([]);
  });

  it('appears when the CLI runs under a pseudo-terminal', () => {
    const out = join(tmpdir(), `saliency-progress-${process.pid}.npy`);
    const command = [process.execPath, bin, ...args, out].map((a) => `'${a}'`).join(' ');
    // script(1) from util-linux gives the command a pseudo-terminal; -e passes its exit code on.
    const result = spawnSync('script', ['-qfec', command, '/dev/null'], { encoding: 'utf8', cwd: cliRoot });
    expect(result.status).toBe(0);
    // drawn before the first chunk, then after each chunk of 4 samples with the time left extrapolated from it
    expect(result.stdout).toMatch(/vargrad \[-{24}\] 0\/16 samples {3}0% {2}eta --/);
    expect(result.stdout).toMatch(/vargrad \[#{6}-{18}\] 4\/16 samples {2}25% {2}eta \d+s/);
    expect(result.stdout).toMatch(/vargrad \[#{24}\] 16\/16 samples 100%/);
  });

  it('is absent when stderr is a pipe', () => {
    const result = saliency([...args, join(tmpdir(), `saliency-progress-pipe-${process.pid}.npy`)]);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^explained class 7 \(probability \d\.\d{3}\) with vargrad on onnx-node$/m);
    expect(result.stdout).toMatch(/^map \[1, 1, 28, 28\] written to /m);
  });
});
