import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../src/npy.js';
import { ecg, mnist, python, saliency } from './helpers.js';

// The series plot, end to end on the bundled ECG example (examples/ecg):
// the CLI's pictures read back pixel by pixel against the raw map it wrote.
// Every run spawns the built CLI; timeouts allow for a loaded 2-core machine.

const dir = mkdtempSync(join(tmpdir(), 'saliency-series-'));
const names = ecg.leads.join(',');
const common = [
  '--model',
  ecg.onnx,
  '--method',
  'vargrad_x_sign',
  '--target',
  '1',
  '--samples',
  '8',
  '--noise-level',
  '0.1',
  '--seed',
  '0',
];
const T = 256;
const LANE = 80;
/** The label gutter: the longest lead name ('aVR') is (3 · 6 − 1) · 2 = 34 pixels in the doubled 5 × 7 font, plus 4 each side. */
const LEFT = 42;

function run(args: string[]) {
  const result = saliency(args);
  expect(result.stdout).toContain('written to');
  expect(result.status).toBe(0);
}

function refused(args: string[], message: RegExp) {
  const { status, stderr } = saliency(args);
  expect(stderr).toMatch(message);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(status).toBe(2);
}

const png = (path: string) => PNG.sync.read(readFileSync(path));
const rgb = (image: PNG, x: number, y: number) => [0, 1, 2].map((k) => image.data[4 * (y * image.width + x) + k]!);
const colourfulness = (c: number[]) => 765 - c[0]! - c[1]! - c[2]!;

let map: Float32Array;

beforeAll(() => {
  run([
    ...common,
    '--input',
    ecg.record('anterior-ste'),
    '--channel-names',
    names,
    '--out',
    join(dir, 'map.png'),
    '--overlay',
    join(dir, 'overlay.svg'),
    '--raw',
    join(dir, 'map.npy'),
  ]);
  const raw = readNpy(readFileSync(join(dir, 'map.npy')));
  expect(raw.shape).toEqual([1, 12, T]);
  map = raw.data;
}, 120_000);

describe('the bundled ECG model', () => {
  it('gives the PyTorch logits that train.py recorded, and the right class, for each sample record', async () => {
    const samples = JSON.parse(readFileSync(ecg.onnx.replace('ecg.onnx', 'samples.json'), 'utf8')) as {
      samples: Array<{ file: string; label: number; logits: number[] }>;
    };
    const session = await ort.InferenceSession.create(ecg.onnx);
    try {
      for (const sample of samples.samples) {
        const x = readNpy(readFileSync(ecg.onnx.replace('model/ecg.onnx', sample.file)));
        const { logits } = await session.run({ input: new ort.Tensor('float32', x.data, [1, ...x.shape]) });
        const got = Array.from(logits!.data as Float32Array);
        const scale = Math.max(...sample.logits.map(Math.abs));
        got.forEach((v, k) => expect(Math.abs(v - sample.logits[k]!)).toBeLessThanOrEqual(1e-4 * scale));
        expect(got.indexOf(Math.max(...got))).toBe(sample.label);
      }
    } finally {
      await session.release();
    }
  });
});

describe('the series plot of a [12, 256] ECG', () => {
  it('is the default for the .npy input: 12 lanes of 80 px, 1600 px wide', () => {
    const image = png(join(dir, 'map.png'));
    expect([image.width, image.height]).toEqual([1600, 12 * LANE]);
    for (let k = 1; k < 12; k++) expect(rgb(image, 800, k * LANE)).toEqual([190, 190, 190]);
  });

  it("colours each lead's lane most strongly at that lead's largest |map|, red where it is positive", () => {
    const image = png(join(dir, 'map.png'));
    const columnOf = (i: number) => LEFT + Math.floor(((i + 0.5) * (image.width - LEFT)) / T);
    for (let k = 0; k < 12; k++) {
      const row = k * LANE + LANE / 2;
      let peak = 0;
      for (let i = 1; i < T; i++) if (Math.abs(map[k * T + i]!) > Math.abs(map[k * T + peak]!)) peak = i;
      // Among the samples of the peak's sign (each arm of the diverging map grows more
      // colourful towards its end; a tie is possible where clipping saturates several samples).
      let strongest = 0;
      for (let i = 0; i < T; i++) {
        if (Math.sign(map[k * T + i]!) === Math.sign(map[k * T + peak]!))
          strongest = Math.max(strongest, colourfulness(rgb(image, columnOf(i), row)));
      }
      const atPeak = rgb(image, columnOf(peak), row);
      expect([ecg.leads[k], colourfulness(atPeak)]).toEqual([ecg.leads[k], strongest]);
      expect([ecg.leads[k], map[k * T + peak]! > 0 ? atPeak[0]! > atPeak[2]! : atPeak[2]! > atPeak[0]!]).toEqual([ecg.leads[k], true]);
    }
  });

  it('finds the anterior ST elevation in the anterior leads: V1–V4 hold the most attribution', () => {
    const energy = ecg.leads.map((lead, k) => ({ lead, sum: map.subarray(k * T, (k + 1) * T).reduce((s, v) => s + Math.abs(v), 0) }));
    const top4 = energy
      .sort((a, b) => b.sum - a.sum)
      .slice(0, 4)
      .map((e) => e.lead);
    expect(top4.sort()).toEqual(['V1', 'V2', 'V3', 'V4']);
  });

  it('--overlay .svg: the signal over its attribution, lanes named by --channel-names', () => {
    const svg = readFileSync(join(dir, 'overlay.svg'), 'utf8');
    expect([...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1])).toEqual(ecg.leads);
    expect(svg.match(/<polyline /g)).toHaveLength(12);
  });

  it('reads a .npy that has the batch axis of 1 already: the same map', () => {
    const input = readNpy(readFileSync(ecg.record('anterior-ste')));
    const batched = join(dir, 'batched.npy');
    writeFileSync(batched, writeNpy(input.data, [1, 12, T]));
    run([...common, '--input', batched, '--out', join(dir, 'batched.png'), '--raw', join(dir, 'batched.npy.out.npy')]);
    expect(readNpy(readFileSync(join(dir, 'batched.npy.out.npy'))).data).toEqual(map);
  }, 60_000);

  it('--plot-width and --lane-height size the picture', () => {
    run([...common, '--input', ecg.record('normal'), '--plot-width', '640', '--lane-height', '30', '--overlay', join(dir, 'small.png')]);
    const image = png(join(dir, 'small.png'));
    expect([image.width, image.height]).toEqual([640, 12 * 30]);
  }, 60_000);

  it('--plot image draws the old 256 × 12 heatmap', () => {
    run([...common, '--input', ecg.record('anterior-ste'), '--plot', 'image', '--no-legend', '--out', join(dir, 'image.png')]);
    const image = png(join(dir, 'image.png'));
    expect([image.width, image.height]).toEqual([T, 12]);
  }, 60_000);
});

describe('--time-axis first, for a model that takes [time, channels]', () => {
  it('draws the same lanes from a [256, 12] input as from [12, 256]', () => {
    // The ECG model behind a Transpose: it takes [batch, 256, 12].
    const model = join(dir, 'ecg-time-first.onnx');
    python(`
import onnx
from onnx import helper
m = onnx.load(${JSON.stringify(ecg.onnx)})
g = m.graph
old = g.input[0]
for node in g.node:
    node.input[:] = ['input_cf' if n == old.name else n for n in node.input]
g.node.insert(0, helper.make_node('Transpose', [old.name], ['input_cf'], perm=[0, 2, 1]))
old.type.tensor_type.shape.dim[1].dim_value, old.type.tensor_type.shape.dim[2].dim_value = 256, 12
onnx.checker.check_model(m)
onnx.save(m, ${JSON.stringify(model)})
`);
    const input = readNpy(readFileSync(ecg.record('anterior-ste')));
    const transposed = new Float32Array(input.data.length);
    for (let c = 0; c < 12; c++) for (let i = 0; i < T; i++) transposed[i * 12 + c] = input.data[c * T + i]!;
    const timeFirst = join(dir, 'time-first.npy');
    writeFileSync(timeFirst, writeNpy(transposed, [T, 12]));
    // Integrated Gradients is deterministic: the two layouts must give the same map, transposed.
    const ig = ['--method', 'integrated_gradients', '--target', '1', '--steps', '16'];
    run(['--model', ecg.onnx, '--input', ecg.record('anterior-ste'), ...ig, '--out', join(dir, 'cf.png'), '--raw', join(dir, 'cf.npy')]);
    run([
      '--model',
      model,
      '--input',
      timeFirst,
      '--time-axis',
      'first',
      ...ig,
      '--out',
      join(dir, 'tf.png'),
      '--raw',
      join(dir, 'tf.npy'),
    ]);
    const cf = readNpy(readFileSync(join(dir, 'cf.npy')));
    const tf = readNpy(readFileSync(join(dir, 'tf.npy')));
    expect(tf.shape).toEqual([1, T, 12]);
    let scale = 0;
    let error = 0;
    for (let c = 0; c < 12; c++) {
      for (let i = 0; i < T; i++) {
        scale = Math.max(scale, Math.abs(cf.data[c * T + i]!));
        error = Math.max(error, Math.abs(cf.data[c * T + i]! - tf.data[i * 12 + c]!));
      }
    }
    expect(error).toBeLessThanOrEqual(1e-5 * scale);
    // same lanes, hence (nearly) the same picture: 12 lanes, colours within rounding
    const a = png(join(dir, 'cf.png'));
    const b = png(join(dir, 'tf.png'));
    expect([b.width, b.height]).toEqual([1600, 12 * LANE]);
    let differ = 0;
    for (let p = 0; p < a.data.length; p++) differ = Math.max(differ, Math.abs(a.data[p]! - b.data[p]!));
    expect(differ).toBeLessThanOrEqual(2);
  }, 120_000);
});

describe('series flags refuse what does not fit, before any gradient work', () => {
  const input = ['--input', ecg.record('normal')];
  it('names the flag and what would fit', () => {
    refused(
      [...common, ...input, '--channel-names', 'I,II,III', '--out', join(dir, 'x.png')],
      /--channel-names: 3 names \(I,II,III\) for 12 channels in the input \[12, 256\]/,
    );
    refused(
      [...common, ...input, '--channel-names', 'I,,III', '--out', join(dir, 'x.png')],
      /--channel-names has an empty name in "I,,III"/,
    );
    refused([...common, ...input, '--plot', 'lines', '--out', join(dir, 'x.png')], /--plot must be one of series, image; got "lines"/);
    refused([...common, ...input, '--time-axis', 'middle', '--out', join(dir, 'x.png')], /--time-axis must be one of last, first/);
    refused(
      [...common, ...input, '--color-scale', 'global', '--out', join(dir, 'x.png')],
      /--color-scale must be one of shared, per-channel/,
    );
    refused(
      [...common, ...input, '--plot', 'image', '--out', join(dir, 'x.svg')],
      /--out: .*x\.svg: SVG is written for the series plot only/,
    );
    refused(
      [...common, ...input, '--plot', 'image', '--channel-names', names, '--out', join(dir, 'x.png')],
      /--channel-names applies to the series plot only/,
    );
    refused(
      [...common, ...input, '--plot', 'image', '--overlay', join(dir, 'x.png')],
      /--overlay needs an image --input \(PNG or JPEG\), or a time series \.npy drawn with --plot series/,
    );
    refused([...common, ...input, '--out', join(dir, 'x.gif')], /--out: .*x\.gif must end in \.png or \.svg/);
    refused([...common, ...input, '--plot-width', '50', '--out', join(dir, 'x.png')], /--plot-width must be an integer ≥ 100; got "50"/);
    refused(
      [...common, ...input, '--plot', 'image', '--lane-height', '20', '--out', join(dir, 'x.png')],
      /--lane-height applies to the series plot only/,
    );
  }, 120_000);

  it('refuses the series plot for images and for inputs that are not series', () => {
    const image = ['--model', mnist.onnx, '--input', mnist.digit('3-0'), '--preset', mnist.preset, '--out', join(dir, 'x.png')];
    refused([...image, '--plot', 'series'], /--plot series needs a time series --input as \.npy/);
    refused([...image, '--time-axis', 'first'], /--time-axis needs a time series --input as \.npy/);
    const digit = join(dir, 'digit.npy');
    writeFileSync(digit, writeNpy(new Float32Array(784), [1, 28, 28]));
    refused(
      ['--model', mnist.onnx, '--input', digit, '--plot', 'series', '--out', join(dir, 'x.png')],
      /--plot series: the input \[1, 28, 28\] \(without its batch axis\) is not a time series/,
    );
  }, 120_000);
});
