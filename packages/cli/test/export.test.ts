import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { explain, hostTensor } from '@saliency/core';
import { createOnnxBackend } from '@saliency/backend-onnx';
import { bin, cliRoot, mnist } from './helpers.js';

// `saliency export` end to end: the built command writes a model, which
// onnxruntime-node runs, against core's explain on the same model and noise.

const dir = mkdtempSync(join(tmpdir(), 'saliency-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The command with a timeout for a loaded 2-core machine (it loads ONNX tooling and builds a gradient graph). */
function saliencyExport(args: readonly string[]) {
  const result = spawnSync(process.execPath, [bin, 'export', ...args], { encoding: 'utf8', cwd: cliRoot, timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const SHAPE = [2, 1, 28, 28];
const SAMPLES = 4;
const values = (n: number, phase: number) => Float32Array.from({ length: n }, (_, i) => 0.5 + 0.5 * Math.sin(0.13 * i + phase));

describe('saliency export', () => {
  it('writes a VarGrad model whose map is the library map for the same noise', async () => {
    const out = join(dir, 'mnist.vargrad.onnx');
    const result = saliencyExport([
      mnist.onnx,
      '--method',
      'vargrad_x_input',
      '--num-samples',
      String(SAMPLES),
      '--input-shape',
      SHAPE.join(','),
      '--out',
      out,
    ]);
    expect(result.stderr).toMatch(/inputs: +\S+ float32 \[2, 1, 28, 28\], saliency\/noise float32 \[2, 4, 1, 28, 28\]/);
    expect(result.stderr).toMatch(
      /outputs: saliency\/map float32 \[2, 1, 28, 28\], saliency\/logits float32 \[2, 10\], saliency\/explained_class int64 \[2\]/,
    );
    expect(result.status).toBe(0);

    const x = values(784 * 2, 0);
    const noise = values(784 * 2 * SAMPLES, 1).map((v) => v - 0.5);
    const model = new Uint8Array(readFileSync(mnist.onnx));
    const backend = createOnnxBackend(ort as never, model);
    const library = await explain(backend, 'vargrad_x_input', hostTensor(x, SHAPE), {
      numSamples: SAMPLES,
      noise: hostTensor(noise, [2, SAMPLES, 1, 28, 28]),
    });
    await backend.dispose();
    const session = await ort.InferenceSession.create(readFileSync(out));
    const inputName = session.inputNames[0]!;
    const outputs = await session.run({
      [inputName]: new ort.Tensor('float32', x, SHAPE),
      'saliency/noise': new ort.Tensor('float32', noise, [2, SAMPLES, 1, 28, 28]),
    });
    await session.release();
    const map = outputs['saliency/map']!.data as Float32Array;
    expect(Math.max(...library.data.map(Math.abs))).toBeGreaterThan(0);
    expect(Math.max(...map.map((v, i) => Math.abs(v - library.data[i]!)))).toBeLessThanOrEqual(1e-5);
  }, 180_000);

  it('takes the target as an input with --target input, and the noise in the graph with --noise in-graph', () => {
    const out = join(dir, 'mnist.smoothgrad.onnx');
    const result = saliencyExport([
      mnist.onnx,
      '--method',
      'smoothgrad',
      '--noise',
      'in-graph',
      '--noise-level',
      '0.1',
      '--seed',
      '3',
      '--target',
      'input',
      '--out',
      out,
    ]);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/inputs: +\S+ float32 \[1, 1, 28, 28\], saliency\/target int64 \[1\]\n/);
  }, 180_000);

  it('exports Grad-CAM at the layer --layer names, and an LRP name, each the library map', async () => {
    const model = new Uint8Array(readFileSync(mnist.onnx));
    const x = values(784, 0.5);
    const backend = createOnnxBackend(ort as never, model);
    try {
      // The first ReLU: 26 × 26 positions, resized to the input’s 28 × 28.
      const cases: Array<[string, string[], object]> = [
        ['grad_cam', ['--layer', '/Relu_output_0'], { layer: '/Relu_output_0' }],
        ['lrp_epsilon_0_1', [], {}],
      ];
      for (const [method, flags, options] of cases) {
        const out = join(dir, `mnist.${method}.onnx`);
        const result = saliencyExport([mnist.onnx, '--method', method, ...flags, '--out', out]);
        expect(result.status).toBe(0);
        if (method === 'grad_cam') {
          expect(result.stderr).toMatch(/grad_cam of output "logits" at layer "\/Relu_output_0" written to/);
          expect(result.stderr).toMatch(/outputs: saliency\/map float32 \[1, 1, 28, 28\]/);
        }
        const library = await explain(backend, method, hostTensor(x, [1, 1, 28, 28]), options);
        const session = await ort.InferenceSession.create(readFileSync(out));
        const outputs = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, [1, 1, 28, 28]) });
        await session.release();
        const map = outputs['saliency/map']!.data as Float32Array;
        expect(Math.max(...library.data.map(Math.abs))).toBeGreaterThan(0);
        expect(Math.max(...map.map((v, i) => Math.abs(v - library.data[i]!)))).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      await backend.dispose();
    }
  }, 300_000);

  it('says how it is used with --help, and the main help points to it', () => {
    const help = saliencyExport(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: saliency export MODEL --method NAME --out FILE/);
    expect(help.stdout).toMatch(/--noise SOURCE +input \(default\)/);
    const main = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', cwd: cliRoot, timeout: 120_000 });
    expect(main.stdout).toMatch(/saliency export MODEL --method NAME --out FILE/);
  }, 180_000);

  it('refuses with exit code 2 and a message naming what is wrong', () => {
    const cases: Array<[string[], RegExp]> = [
      [[mnist.onnx, '--method', 'vargrad'], /--out is required/],
      [[mnist.onnx, '--method', 'vargrad_x_nothing', '--out', join(dir, 'x.onnx')], /cannot export: unknown method "vargrad_x_nothing"/],
      [[mnist.onnx, '--seed', '3', '--out', join(dir, 'x.onnx')], /cannot export: .*seed sets the noise made in the graph/],
      [[mnist.onnx, '--input-shape', '1,3,28,28', '--out', join(dir, 'x.onnx')], /inputShape \[1, 3, 28, 28\] does not fit input/],
      [[mnist.tfjs, '--out', join(dir, 'x.onnx')], /is not an \.onnx file/],
      [[join(dir, 'missing.onnx'), '--out', join(dir, 'x.onnx')], /MODEL: .*missing\.onnx does not exist/],
      [
        [mnist.onnx, '--method', 'grad_cam', '--layer', 'nothing', '--out', join(dir, 'x.onnx')],
        /cannot export: layer "nothing" is no tensor of the model; feature maps there: "/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = saliencyExport(args);
      expect(result.stderr).toMatch(message);
      expect(result.status).toBe(2);
    }
  }, 300_000);
});
