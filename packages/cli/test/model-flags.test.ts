import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mnist, saliency } from './helpers.js';
import { makeSmallOnnxModels, W, X6 } from './small-models.js';

// The ONNX model flags and `saliency inspect` on small models whose gradients
// are known in closed form: for logits = x · w, ∂ logit_k / ∂ x_i = w[i, k];
// for squashed = tanh(logits), ∂ squashed_k / ∂ x_i = (1 − tanh² logit_k) · w[i, k].

const dir = mkdtempSync(join(tmpdir(), 'saliency-model-flags-'));
const logit = (k: number) => X6.reduce((sum, x, i) => sum + x * W(i, k), 0);

/** The plain gradient of class `target` written by the CLI as JSON, with its stdout. */
function gradient(model: string, target: number, ...flags: string[]) {
  const raw = join(dir, `g-${Math.random().toString(36).slice(2)}.json`);
  const result = saliency([
    '--model',
    join(dir, model),
    '--input',
    join(dir, 'x6.npy'),
    '--method',
    'gradient',
    '--target',
    String(target),
    '--raw',
    raw,
    ...flags,
  ]);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return { map: (JSON.parse(readFileSync(raw, 'utf8')) as { data: number[] }).data, stdout: result.stdout };
}

beforeAll(() => makeSmallOnnxModels(dir));

describe('ONNX model flags', () => {
  it('--output-name chooses the output explained', () => {
    const logits = gradient('two-outputs.onnx', 1, '--output-name', 'logits');
    logits.map.forEach((g, i) => expect(g).toBeCloseTo(W(i, 1), 6));
    const squashed = gradient('two-outputs.onnx', 1, '--output-name', 'squashed');
    const slope = 1 - Math.tanh(logit(1)) ** 2;
    squashed.map.forEach((g, i) => expect(g).toBeCloseTo(slope * W(i, 1), 6));
  });

  it('prints the probability of the explained class and the top classes: the softmax of the logits', () => {
    const { stdout } = gradient('two-outputs.onnx', 1, '--output-name', 'logits', '--top-k', '2');
    const z = [0, 1, 2, 3].map(logit);
    const p = z.map((v) => Math.exp(v) / z.reduce((s, u) => s + Math.exp(u), 0));
    const order = [0, 1, 2, 3].sort((a, b) => p[b]! - p[a]!);
    expect(stdout).toContain(`explained class 1 (probability ${p[1]!.toFixed(3)}) with gradient on onnx-node\n`);
    expect(stdout).toContain(`top 2: ${order[0]} ${p[order[0]!]!.toFixed(3)} · ${order[1]} ${p[order[1]!]!.toFixed(3)}\n`);
  });

  it('--external-data gives the data file the model names, under any name; by default it is read next to the model', () => {
    const renamed = join(dir, 'weights-elsewhere.bin');
    copyFileSync(join(dir, 'ext.onnx.data'), renamed);
    gradient('alone/ext.onnx', 2, '--external-data', renamed).map.forEach((g, i) => expect(g).toBeCloseTo(W(i, 2), 6));
    // the folder holding it works too; and a copy of the data next to a copy of the model is found without the flag
    gradient('alone/ext.onnx', 2, '--external-data', dir).map.forEach((g, i) => expect(g).toBeCloseTo(W(i, 2), 6));
    copyFileSync(join(dir, 'alone', 'ext.onnx'), join(dir, 'ext.onnx'));
    gradient('ext.onnx', 3).map.forEach((g, i) => expect(g).toBeCloseTo(W(i, 3), 6));
  });
});

describe('saliency inspect', () => {
  it('lists the inputs and outputs of an ONNX model, with shapes', () => {
    const { status, stdout } = saliency(['inspect', mnist.onnx]);
    expect(status).toBe(0);
    expect(stdout).toMatch(
      /^mnist\.onnx: ONNX model\ninputs:\n {2}input {2}float32 {2}\[batch, 1, 28, 28\]\noutputs:\n {2}logits {2}float32 {2}\[batch, 10\]\n/,
    );
    expect(stdout).toContain('attribution (--input, --feed, --layer):\n  --input FILE  (float32: attributed as it is, or at --layer)\n');
    const two = saliency(['inspect', join(dir, 'two-outputs.onnx')]);
    expect(two.stdout).toContain('outputs:\n  squashed  float32  [batch, 4]\n  logits  float32  [batch, 4]\n');
  });

  it('lists what can be attributed: each input with the --feed flags of the others; token ids at their embeddings', () => {
    const two = saliency(['inspect', join(dir, 'two-inputs.onnx')]).stdout;
    expect(two).toContain('  --input FILE --input-name a --feed b=FILE.npy  (float32: attributed as it is, or at --layer)\n');
    expect(two).toContain('  --input FILE --input-name b --feed a=FILE.npy  (float32: attributed as it is, or at --layer)\n');
    const tokens = saliency(['inspect', join(dir, 'tokens.onnx')]).stdout;
    expect(tokens).toContain('  --input FILE  (int64: token ids, attributed at the embeddings they select, or at --layer)\n');
  });

  it('lists the tensors --layer takes in an ONNX model, with the shapes its PyTorch module gives them', () => {
    const { status, stdout } = saliency(['inspect', mnist.onnx]);
    expect(status).toBe(0);
    expect(stdout).toContain('layers from input input to output logits (--layer NAME:');
    // examples/mnist/train.py: conv1 3×3 valid 1 → 8, 2×2 pool, conv2 3×3 valid 8 → 16, 2×2 pool (floor), fc1 400 → 64, fc2 64 → 10
    expect(stdout).toContain('  * /conv1/Conv_output_0  Conv  float32  [?, 8, 26, 26]\n');
    expect(stdout).toContain('  * /MaxPool_output_0  MaxPool  float32  [?, 8, 13, 13]\n');
    expect(stdout).toContain('  * /conv2/Conv_output_0  Conv  float32  [?, 16, 11, 11]\n');
    // the last feature map is Grad-CAM's default layer; flattened and dense ones are no feature maps
    expect(stdout).toContain('  * /MaxPool_1_output_0  MaxPool  float32  [?, 16, 5, 5]  (grad_cam default)\n');
    expect(stdout).toContain('    /Flatten_output_0  Flatten  float32  [?, 400]\n');
    expect(stdout).toContain('    /fc1/Gemm_output_0  Gemm  float32  [?, 64]\n');
    expect(stdout).toContain('    logits  Gemm  float32  [?, 10]\n');
  });

  it('lists the external data files of an ONNX model and whether they are next to it', () => {
    expect(saliency(['inspect', join(dir, 'alone', 'ext.onnx')]).stdout).toContain(
      'external data:\n  ext.onnx.data  MISSING next to the model: give it with --external-data\n',
    );
    expect(saliency(['inspect', join(dir, 'ext.onnx')]).stdout).toContain('external data:\n  ext.onnx.data  next to the model\n');
  });

  it('lists the inputs, outputs and layers of a TF.js model, with shapes', () => {
    const { status, stdout } = saliency(['inspect', mnist.tfjsDir]);
    expect(status).toBe(0);
    expect(stdout).toMatch(
      /^model\.json: TF\.js layers-model\ninputs:\n {2}\S+ {2}float32 {2}\[\?, 28, 28, 1\]\noutputs:\n {2}\S+ {2}float32 {2}\[\?, 10\]\n/,
    );
    // the layers --layer takes, with output shapes: 3×3 valid convolutions and 2×2 pooling from 28×28, as the model is built
    expect(stdout).toContain('layers (--layer NAME: the tensor attributed at; for grad_cam, the layer explained):\n');
    expect(stdout).toContain('  conv1  Conv2D  [?, 26, 26, 8]\n  pool1  MaxPooling2D  [?, 13, 13, 8]\n');
    expect(stdout).toContain('  fc2  Dense  [?, 10]\n');
  });
});
