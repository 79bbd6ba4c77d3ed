import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mnist, saliency } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'saliency-errors-'));
const out = join(dir, 'heatmap.png');
const good = ['--model', mnist.onnx, '--input', mnist.digit('3-0'), '--preset', mnist.preset, '--out', out, '--num-samples', '2'];

/** Runs the CLI and expects exit code 2 with a message matching `message`, on one line prefixed `saliency:`. */
function refused(args: string[], message: RegExp) {
  const { status, stderr } = saliency(args);
  expect(stderr).toMatch(/^saliency: /);
  expect(stderr).toMatch(message);
  expect(stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  expect(status).toBe(2);
}

describe('the CLI refuses bad input with a message and exit code 2', () => {
  it('missing files', () => {
    refused([...good.slice(0, 2), '--input', join(dir, 'nope.png'), ...good.slice(4)], /--input: .*nope\.png does not exist/);
    refused(['--model', join(dir, 'nope.onnx'), ...good.slice(2)], /--model: .*nope\.onnx does not exist/);
    refused([...good, '--preset', join(dir, 'nope.json')], /--preset: .*nope\.json does not exist/);
    refused([...good, '--noise', join(dir, 'nope.npy')], /--noise: .*nope\.npy does not exist/);
    refused([...good.slice(0, 2), '--input', dir, ...good.slice(4)], /--input: .* is a directory/);
  });

  it('unreadable or wrong files', () => {
    const text = join(dir, 'digit.png');
    writeFileSync(text, 'not an image');
    refused([...good.slice(0, 2), '--input', text, ...good.slice(4)], /is neither a PNG nor a JPEG/);
    const badJson = join(dir, 'bad.json');
    writeFileSync(badJson, '{ width: 28');
    refused([...good, '--preset', badJson], /--preset: .*bad\.json is not valid JSON/);
    refused(
      ['--model', mnist.preset.replace('preprocess.json', 'README.md'), ...good.slice(2)],
      /neither an ONNX model \(\.onnx\) nor a TF\.js model/,
    );
  });

  it('unknown method, listing the known ones', () => {
    refused([...good, '--method', 'vargradd'], /unknown method "vargradd"; known methods: gradient, .*vargrad_x_sign/);
  });

  it('target out of range, naming the classes', () => {
    refused([...good, '--target', '10'], /--target: target 10 is not a class index: the model has 10 classes.*\[0, 9\]/);
  });

  it('an image the model does not take: says what the model takes, what the image became, and which flags fit', () => {
    // Without the preset the 28 × 28 PNG becomes RGB [1, 3, 28, 28]; the model takes [?, 1, 28, 28].
    const { status, stderr } = saliency(['--model', mnist.onnx, '--input', mnist.digit('3-0'), '--out', out]);
    expect(status).toBe(2);
    expect(stderr).toContain('takes shape [?, 1, 28, 28]');
    expect(stderr).toContain('became [1, 3, 28, 28]');
    // the hint keeps the normalisation, so that following it explains the same kind of input
    expect(stderr).toMatch(
      /try --width 28 --height 28 --grayscale --scale 0\.0039\d* --mean 0 --std 1 --layout NCHW \(the scale, mean and std are the ones used now/,
    );
    refused(
      ['--model', mnist.onnx, '--input', mnist.digit('3-0'), '--preset', mnist.preset, '--width', '32', '--out', out],
      /became \[1, 1, 28, 32\]/,
    );
    // per-channel mean and std of RGB cannot carry over to one channel: the hint says they must be given
    refused(
      ['--model', mnist.onnx, '--input', mnist.digit('3-0'), '--mean', '0.485,0.456,0.406', '--std', '0.229,0.224,0.225', '--out', out],
      /try --width 28 --height 28 --grayscale --scale \S+ --mean M --std S --layout NCHW with the model's mean M and std S for 1 channel/,
    );
    refused(
      ['--model', mnist.tfjs, '--input', mnist.digit('3-0'), '--out', out],
      /takes input of shape \[any, 28, 28, 1\], got \[1, 28, 28, 3\].*--grayscale --scale \S+ --mean 0 --std 1 --layout NHWC/,
    );
  });

  it('unknown flags and bad flag values', () => {
    refused([...good, '--sample', '4'], /Unknown option '--sample'/);
    refused([...good, '--num-samples', '0'], /--num-samples must be an integer ≥ 1; got "0"/);
    refused([...good.slice(0, -2), '--samples', 'many'], /--samples must be a number; got "many"/);
    refused([...good, '--noise-scale=-1'], /--noise-scale must be a finite number ≥ 0/);
    refused([...good, '--backend', 'gpu'], /--backend must be one of onnx-node, onnx-wasm, tfjs-wasm, tfjs-cpu; got "gpu"/);
    refused([...good, '--backend', 'tfjs-wasm'], /--backend tfjs-wasm cannot run an ONNX model; use onnx-node or onnx-wasm/);
    refused([...good, '--layout', 'CHW'], /--layout must be one of NCHW, NHWC/);
    refused([...good, '--raw', join(dir, 'map.txt')], /--raw: .*map\.txt must end in \.npy or \.json/);
    refused(['--input', mnist.digit('3-0'), '--out', out], /--model is required/);
    refused(['--model', mnist.onnx, '--input', mnist.digit('3-0')], /nothing to write/);
  });

  it('prints the usage with --help and exits 0', () => {
    const { status, stdout } = saliency(['--help']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^Usage: saliency --model MODEL --input INPUT/);
  });
});
