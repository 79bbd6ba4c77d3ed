import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePreprocess } from '@saliency/core/preprocess';
import { parseCommandLine } from '../src/args.js';
import { CliError } from '../src/errors.js';
import { describePreprocess, readPreset } from '../src/preset.js';
import type { RunOptions } from '../src/run.js';

const required = ['--model', 'm.onnx', '--input', 'x.png'];
const parsed = (...args: string[]) => parseCommandLine([...required, ...args]) as RunOptions;

describe('command line', () => {
  it('takes --num-samples, and --samples as another name for it', () => {
    expect(parsed('--num-samples', '8').numSamples).toBe(8);
    expect(parsed('--samples', '8').numSamples).toBe(8);
    expect(parsed().numSamples).toBeUndefined();
    expect(() => parsed('--samples', '0')).toThrow(/--samples must be an integer ≥ 1; got "0"/);
    expect(() => parsed('--num-samples', '0')).toThrow(/--num-samples must be an integer ≥ 1; got "0"/);
    expect(() => parsed('--num-samples', '4', '--samples', '4')).toThrow(/--samples is another name for --num-samples/);
  });

  it('takes the runtime ids as --backend', () => {
    for (const id of ['onnx-node', 'onnx-wasm', 'tfjs-wasm', 'tfjs-cpu']) expect(parsed('--backend', id).backend).toBe(id);
    expect(() => parsed('--backend', 'onnx-default')).toThrow(
      /--backend must be one of onnx-node, onnx-wasm, tfjs-wasm, tfjs-cpu; got "onnx-default"/,
    );
  });

  it('reads negative numbers as values, and refuses a negative target with a message of its own', () => {
    expect(parsed('--mean', '-1', '--std', '2').preprocess).toMatchObject({ mean: [-1], std: [2] });
    expect(parsed('--scale', '-.5').preprocess?.scale).toBe(-0.5);
    expect(() => parsed('--target', '-1')).toThrow(/^--target must be a class index, an integer ≥ 0 \(the first class is 0\); got "-1"/);
    expect(() => parsed('--samples', '-3')).toThrow(/^--samples must be an integer ≥ 1; got "-3"$/);
    expect(() => parsed('--seed', '-1e3')).toThrow(/^--seed must be an integer ≥ 0; got "-1e3"$/);
    // a flag after a flag that takes a value is still a missing value, not a number
    expect(() => parsed('--target', '--seed', '1')).toThrow(/argument is ambiguous/);
  });

  it('takes --size, --top-k and --no-legend', () => {
    expect(parsed('--size', '1024x768').size).toEqual({ width: 1024, height: 768 });
    expect(parsed('--size', '64×48').size).toEqual({ width: 64, height: 48 });
    expect(() => parsed('--size', '1024')).toThrow(/--size must be WIDTHxHEIGHT in pixels, e.g. 1024x768; got "1024"/);
    expect(() => parsed('--size', '0x5')).toThrow(/--size must be WIDTHxHEIGHT/);
    expect(parsed('--top-k', '3').topK).toBe(3);
    expect(() => parsed('--top-k', '0')).toThrow(/--top-k must be an integer ≥ 1; got "0"/);
    expect(parsed('--no-legend').legend).toBe(false);
    expect(parsed().legend).toBeUndefined();
  });

  it('takes --fit', () => {
    expect(parsed('--fit', 'letterbox').preprocess?.fit).toBe('letterbox');
    expect(() => parsed('--fit', 'cover')).toThrow(/--fit must be one of stretch, center-crop, letterbox; got "cover"/);
  });
});

describe('presets on the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'saliency-preset-'));

  it('reads the layout of the model format; refusals are usage errors naming the file and key', async () => {
    const path = join(dir, 'p.json');
    writeFileSync(path, JSON.stringify({ width: 28, height: 28, channels: 1, layout: { onnx: 'NCHW', tfjs: 'NHWC' } }));
    expect(await readPreset(path, 'tfjs')).toEqual({ width: 28, height: 28, grayscale: true, layout: 'NHWC' });
    writeFileSync(path, JSON.stringify({ channels: 2 }));
    const refusal = readPreset(path, 'onnx');
    await expect(refusal).rejects.toThrow(CliError);
    await expect(refusal).rejects.toThrow(/--preset .*p\.json: "channels" must be 1 or 3; got 2/);
  });

  it('describes the preprocessing as the flags that give it', () => {
    const p = resolvePreprocess({ width: 28, height: 28, grayscale: true, mean: [0.5], std: [0.25] }, { width: 5, height: 5 }, 'onnx');
    expect(describePreprocess(p)).toBe(`--width 28 --height 28 --grayscale --scale ${1 / 255} --mean 0.5 --std 0.25 --layout NCHW`);
    expect(describePreprocess({ ...p, fit: 'letterbox', grayscale: false })).toContain('--fit letterbox --scale');
  });
});
