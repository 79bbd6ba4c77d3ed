import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import type { Tensor } from 'onnxruntime-common';
import {
  AttributionError,
  explain,
  hostTensor,
  METHOD_NAMES,
  methodRule,
  parseMethodName,
  registerMethod,
  type HostTensor,
} from '@saliency/core';
import {
  createOnnxBackend,
  exportAttributionModel,
  type ExportedModel,
  LOGITS_OUTPUT,
  MAP_OUTPUT,
  NOISE_INPUT,
  TARGET_INPUT,
  TARGET_OUTPUT,
  type OnnxRuntimeModule,
} from '../src/index.js';
import { parityModel, runExported, seededNoiseTensor, testInput, type Runtime } from './helpers/export-fixtures.js';

/** The declared shape with a batch of two, so that the per-example parts (noise, targets, σ) are checked. */
function inputShapeOf(model: Uint8Array): number[] {
  const declared = exportAttributionModel(model, { method: 'gradient' }).inputs[0]!.shape;
  return [2, ...declared.slice(1)];
}
const RUNTIMES: Array<[string, Runtime, object]> = [
  ['onnxruntime-node', ortNode as unknown as Runtime, {}],
  ['onnxruntime-web wasm', ortWeb as unknown as Runtime, { executionProviders: ['wasm'] }],
];
/** The library's options; the exported model gets the same noise as its noise input. */
const OPTIONS = { numSamples: 4, steps: 8, seed: 7, noiseScale: 0.3, unbiased: false } as const;
const EXPORT_OPTIONS = { numSamples: 4, steps: 8, unbiased: false } as const;
/** Every registered name but the layer methods, and a μ of the sign. */
const METHODS = [
  ...METHOD_NAMES.filter((name) => methodRule(parseMethodName(name).base).layer === undefined),
  'vargrad_x_input_x_sign_mu_neg_0_25',
  'integrated_gradients_x_sign_mu_0_1',
];
/**
 * LRP (docs/methods.md, "LRP"): every layer rule (z, ε, ε with std(x), z⁺,
 * αβ, γ), every first-layer variant (z, SIGN with its μ, w², flat, zB), every
 * composite.
 */
const LRP = [
  'lrp_z',
  'lrp_epsilon_0_1',
  'lrp_epsilon_0_25_std_x',
  'lrp_zplus',
  'lrp_alpha_1_beta_0',
  'lrp_alpha_2_beta_1',
  'lrp_gamma_0_25',
  'lrpz_epsilon_0_1',
  'lrpsign_epsilon_0_1',
  'lrpsign_z_mu_neg_0_25',
  'w2lrp_epsilon_0_1',
  'flatlrp_alpha_1_beta_0',
  'zblrp_epsilon_0_1_VGG16ILSVRC',
  'lrp_epsilon_plus_flat',
  'lrp_epsilon_gamma_box',
  'lrp_sequential_composite_a',
  'lrp_sequential_composite_b',
];
/** Parity's LRP rows (ε, αβ, SIGN at the input, a composite), on the fixtures but cnn_bn, which runs every name. */
const LRP_ROWS = ['lrp_epsilon_0_1', 'lrp_alpha_1_beta_0', 'lrpsign_epsilon_0_1', 'lrp_epsilon_plus_flat'];
const IMAGE_CAM = ['grad_cam', 'grad_cam_plus_plus'];
const ONE_EACH = [
  'gradient_x_input',
  'smoothgrad_squared',
  'vargrad_x_sign',
  'integrated_gradients_x_input',
  'guided_backprop',
  'deconvnet',
];
/**
 * The parity fixtures and the methods each has a meaning for (as
 * apps/parity/fixtures/xai-reference says): Grad-CAM of the images, its
 * time-series form on cnn1d (whose gradient family the others cover).
 */
const FIXTURES: Array<[string, string[]]> = [
  ['mlp', [...METHODS, ...LRP_ROWS]],
  ['cnn_bn', [...METHODS, ...LRP, ...IMAGE_CAM]],
  ['resnet_block', [...METHODS, ...LRP_ROWS, ...IMAGE_CAM]],
  ['image_model', [...METHODS, ...LRP_ROWS, ...IMAGE_CAM]],
  ['cnn1d', [...LRP_ROWS, 'grad_cam_timeseries']],
  // The other parity fixtures: one name of each family, and LRP on sigmoid_head (shufflenet's channel shuffle is refused below).
  ['depthwise_separable', [...ONE_EACH, ...IMAGE_CAM]],
  ['shufflenet', [...ONE_EACH, ...IMAGE_CAM]],
  ['sigmoid_head', [...ONE_EACH, ...LRP_ROWS]],
];
const TOLERANCE = 1e-5;

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** The largest difference per fixture and method, printed at the end for the record. */
/** An exported model's feeds for `x`: the input, and the noise the library draws with OPTIONS (unused by a model without a noise input). */
function libraryFeeds(exported: ExportedModel, x: HostTensor): Record<string, Float32Array> {
  return {
    [exported.inputs[0]!.name]: x.data,
    [NOISE_INPUT]: seededNoiseTensor(x.shape, OPTIONS.numSamples, OPTIONS.seed, OPTIONS.noiseScale),
  };
}

/** The largest difference between an exported model's map and the library's. */
function mapDifference(outputs: Record<string, Tensor>, library: HostTensor): number {
  return maxAbsDifference(outputs[MAP_OUTPUT]!.data as Float32Array, library.data);
}

const worst = new Map<string, number>();
afterAll(() => {
  const largest = [...worst.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
  console.log(`exported vs library, largest map differences: ${largest.map(([k, v]) => `${k} ${v.toExponential(2)}`).join('; ')}`);
});

const tmp = mkdtempSync(join(tmpdir(), 'saliency-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each(FIXTURES)('exported attribution models of %s', (fixture, methods) => {
  const model = parityModel(fixture);
  const shape = inputShapeOf(model);
  const x = hostTensor(testInput(shape), [...shape]);
  const backend = createOnnxBackend(ortNode as unknown as OnnxRuntimeModule, model);
  // The library on wasm too, made when a map needs it.
  let wasmBackend: ReturnType<typeof createOnnxBackend> | undefined;
  afterAll(async () => {
    await backend.dispose();
    await wasmBackend?.dispose();
  });
  const logits = backend.logits(x);

  it.each(methods)('%s matches the library on onnxruntime-node and onnxruntime-web within 1e-5', async (method) => {
    const exported = exportAttributionModel(model, { method, inputShape: shape, ...EXPORT_OPTIONS });
    const library = await explain(backend, method, x, OPTIONS);
    // A CAM is 0 where ReLU cuts it, but not over most of the input.
    expect(library.data.filter((v) => v !== 0).length).toBeGreaterThan(library.data.length / 3);
    const noisy = exported.inputs.some((input) => input.name === NOISE_INPUT);
    expect(noisy).toBe(methodRule(parseMethodName(method).base).rows === 'noisy-samples');
    const feeds = libraryFeeds(exported, x);
    const expectedLogits = await logits;
    for (const [runtime, ort, sessionOptions] of RUNTIMES) {
      const outputs = await runExported(ort, exported, feeds, sessionOptions);
      expect(outputs[MAP_OUTPUT]!.dims).toEqual(library.shape);
      let difference = mapDifference(outputs, library);
      if (runtime !== RUNTIMES[0]![0] && difference > TOLERANCE) {
        // z⁺ on a signed input divides by small sums, where the float32 rounding of wasm's kernels and the
        // native ones differs by more than 1e-5 (3.4e-5 of the map's scale on cnn_bn): the map on wasm is then held to the library's on wasm.
        wasmBackend ??= createOnnxBackend(ort as unknown as OnnxRuntimeModule, model, { sessionOptions });
        difference = mapDifference(outputs, await explain(wasmBackend, method, x, OPTIONS));
      }
      worst.set(`${fixture} ${method}`, Math.max(worst.get(`${fixture} ${method}`) ?? 0, difference));
      expect(difference).toBeLessThanOrEqual(TOLERANCE);
      expect(maxAbsDifference(outputs[LOGITS_OUTPUT]!.data as Float32Array, expectedLogits.data)).toBeLessThanOrEqual(TOLERANCE);
      expect([...(outputs[TARGET_OUTPUT]!.data as BigInt64Array)].map(Number)).toEqual(argmaxRows(expectedLogits));
    }
  });
});

function argmaxRows(logits: HostTensor): number[] {
  const [rows, classes] = logits.shape as [number, number];
  return Array.from({ length: rows }, (_, r) => {
    const row = Array.from(logits.data.subarray(r * classes, (r + 1) * classes));
    return row.indexOf(Math.max(...row));
  });
}

describe('exported attribution models: targets, in-graph noise, validity', () => {
  const model = parityModel('cnn_bn');
  const shape = inputShapeOf(model);
  const x = hostTensor(testInput(shape), [...shape]);
  const ort = ortNode as unknown as Runtime;

  it('explains the classes of the target input as the library explains its target option', async () => {
    const backend = createOnnxBackend(ortNode as unknown as OnnxRuntimeModule, model);
    try {
      for (const method of ['vargrad', 'integrated_gradients_x_input', 'gradient']) {
        const exported = exportAttributionModel(model, { method, inputShape: shape, targetSource: 'input', ...EXPORT_OPTIONS });
        expect(exported.inputs.map((i) => i.name)).toContain(TARGET_INPUT);
        const target = [3, 8];
        const library = await explain(backend, method, x, { ...OPTIONS, target });
        const outputs = await runExported(ort, exported, {
          ...libraryFeeds(exported, x),
          [TARGET_INPUT]: BigInt64Array.from(target.map(BigInt)),
        });
        expect([...(outputs[TARGET_OUTPUT]!.data as BigInt64Array)].map(Number)).toEqual(target);
        expect(mapDifference(outputs, library)).toBeLessThanOrEqual(TOLERANCE);
      }
    } finally {
      await backend.dispose();
    }
  });

  it('Grad-CAM of a layer named by option layer, with the target as an input, matches the library', async () => {
    const image = parityModel('resnet_block');
    const imageShape = inputShapeOf(image);
    const input = hostTensor(testInput(imageShape), [...imageShape]);
    const backend = createOnnxBackend(ortNode as unknown as OnnxRuntimeModule, image);
    try {
      // The first block's sum: signed, and at the input's 16 × 16, where the resize is the identity.
      const layer = '/3/Add_output_0';
      const target = [1, 0];
      for (const method of ['grad_cam', 'grad_cam_plus_plus']) {
        const exported = exportAttributionModel(image, { method, layer, inputShape: imageShape, targetSource: 'input' });
        expect(exported.layer).toBe(layer);
        const library = await explain(backend, method, input, { layer, target });
        const outputs = await runExported(ort, exported, { input: input.data, [TARGET_INPUT]: BigInt64Array.from(target.map(BigInt)) });
        expect(outputs[MAP_OUTPUT]!.dims).toEqual([2, 1, 16, 16]);
        expect(library.data.some((v) => v > 0)).toBe(true);
        expect(mapDifference(outputs, library)).toBeLessThanOrEqual(TOLERANCE);
      }
    } finally {
      await backend.dispose();
    }
  });

  it('a baseline tensor (one example, or the whole batch) and unbiased VarGrad match the library', async () => {
    const backend = createOnnxBackend(ortNode as unknown as OnnxRuntimeModule, model);
    try {
      const exampleShape = shape.slice(1);
      const cases: Array<[string, object]> = [
        [
          'integrated_gradients_x_input',
          {
            baseline: hostTensor(
              testInput(exampleShape).map((v) => 0.5 * v),
              exampleShape,
            ),
          },
        ],
        [
          'integrated_gradients',
          {
            baseline: hostTensor(
              testInput(shape).map((v) => -v * v),
              [...shape],
            ),
          },
        ],
        ['integrated_gradients', { baseline: -0.25 }],
        ['vargrad', { unbiased: true }],
      ];
      for (const [method, options] of cases) {
        const exported = exportAttributionModel(model, { method, inputShape: shape, ...EXPORT_OPTIONS, ...options });
        const library = await explain(backend, method, x, { ...OPTIONS, ...options });
        const outputs = await runExported(ort, exported, libraryFeeds(exported, x));
        expect(mapDifference(outputs, library)).toBeLessThanOrEqual(TOLERANCE);
      }
    } finally {
      await backend.dispose();
    }
  });

  it('float16 and int8 models (passes/, as the backend takes them) export with a float32 input and match the library', async () => {
    const precision = new URL('./fixtures/precision/', import.meta.url);
    for (const file of ['cnn_fp16.onnx', 'cnn_fp16_io32.onnx', 'cnn_int8_qdq.onnx', 'cnn_int8_weights.onnx', 'cnn_int8_dynamic.onnx']) {
      const bytes = new Uint8Array(readFileSync(new URL(file, precision)));
      const backend = createOnnxBackend(ortNode as unknown as OnnxRuntimeModule, bytes);
      try {
        const exported = exportAttributionModel(bytes, { method: 'vargrad_x_input', inputShape: shape, ...EXPORT_OPTIONS });
        expect(exported.inputs[0]!.type).toBe('float32');
        const library = await explain(backend, 'vargrad_x_input', x, OPTIONS);
        const outputs = await runExported(ort, exported, libraryFeeds(exported, x));
        expect(mapDifference(outputs, library)).toBeLessThanOrEqual(TOLERANCE);
      } finally {
        await backend.dispose();
      }
    }
  });

  it('in-graph noise: σ = noiseLevel · range per example, a fresh session repeats its seed, another seed differs', async () => {
    const one = [1, ...shape.slice(1)];
    const single = testInput(one);
    const range = Math.max(...single) - Math.min(...single);
    const inGraph = (options: object) =>
      exportAttributionModel(model, { method: 'smoothgrad', inputShape: one, noiseSource: 'in-graph', numSamples: 3, ...options });
    const run = async (options: object) => {
      const exported = inGraph(options);
      expect(exported.inputs.map((i) => i.name)).toEqual(['input']);
      return (await runExported(ort, exported, { input: single }))[MAP_OUTPUT]!.data as Float32Array;
    };
    const byLevel = await run({ noiseLevel: 0.2, seed: 5 });
    // The same normals times σ computed in the graph or given: equal to float32 rounding of the range.
    const byScale = await run({ noiseScale: 0.2 * range, seed: 5 });
    const magnitude = Math.max(...byScale.map(Math.abs));
    expect(maxAbsDifference(byLevel, byScale)).toBeLessThanOrEqual(1e-5 * magnitude);
    expect(maxAbsDifference(await run({ noiseScale: 0.2 * range, seed: 5 }), byScale)).toBe(0);
    expect(maxAbsDifference(await run({ noiseScale: 0.2 * range, seed: 6 }), byScale)).toBeGreaterThan(1e-3 * magnitude);
    // onnxruntime-web (wasm) runs it too, and a fresh session repeats its draw there as well.
    const web = ortWeb as unknown as Runtime;
    const onWeb = async () =>
      (await runExported(web, inGraph({ noiseScale: 0.3, seed: 5 }), { input: single }))[MAP_OUTPUT]!.data as Float32Array;
    const first = await onWeb();
    expect(first.every(Number.isFinite)).toBe(true);
    expect(maxAbsDifference(await onWeb(), first)).toBe(0);
    // σ = 0: every row is the input, so SmoothGrad is the gradient.
    const gradient = exportAttributionModel(model, { method: 'gradient', inputShape: one });
    const exact = (await runExported(ort, gradient, { input: single }))[MAP_OUTPUT]!.data as Float32Array;
    expect(maxAbsDifference(await run({ noiseScale: 0 }), exact)).toBeLessThanOrEqual(1e-7 * magnitude);
  });

  it("passes ONNX's own checker (onnx.checker.check_model with full_check, Debian's python3-onnx)", () => {
    const methods = [
      'vargrad_x_input',
      'integrated_gradients_x_sign',
      'gradient',
      'grad_cam_plus_plus',
      'lrp_epsilon_plus_flat',
      'lrpsign_z',
    ];
    const cases = [...methods.map((method) => ['resnet_block', method] as const), ['cnn1d', 'grad_cam_timeseries'] as const];
    const files = cases.map(([fixture, method]) => {
      const exported = exportAttributionModel(parityModel(fixture), {
        method,
        numSamples: 4,
        steps: 5,
        noiseSource: 'in-graph',
        targetSource: 'input',
      });
      const file = join(tmp, `${fixture}.${method}.onnx`);
      writeFileSync(file, exported.bytes);
      return file;
    });
    const code = `import onnx, sys\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\nprint('ok', len(sys.argv) - 1)`;
    const result = spawnSync('/usr/bin/python3', ['-c', code, ...files], { encoding: 'utf8', timeout: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(`ok ${cases.length}`);
  }, 180_000);
});

describe('exportAttributionModel refuses', () => {
  const model = parityModel('mlp');
  const refusal = (options: object, code: string, message: RegExp, on = model) => {
    const call = () => exportAttributionModel(on, options as never);
    expect(call).toThrow(AttributionError);
    expect(call).toThrow(message);
    try {
      call();
    } catch (error) {
      expect((error as AttributionError).code).toBe(code);
    }
  };

  it('a method whose reduce exists only as JavaScript', () => {
    registerMethod({
      name: 'export_toy_max',
      rows: 'noisy-samples',
      takesModifiers: false,
      signed: false,
      reduce: ({ mean, m2 }) => Math.max(mean, m2),
    });
    refusal(
      { method: 'export_toy_max' },
      'INVALID_OPTION',
      /method "export_toy_max" cannot be exported: its reduce is a JavaScript function.*vargrad/,
    );
  });

  it('a layer method whose map exists only as JavaScript', () => {
    registerMethod({
      name: 'export_toy_cam',
      rows: 'input',
      takesModifiers: false,
      signed: false,
      layer: { positionAxes: 2, map: (activation) => activation },
      reduce: ({ mean }) => mean,
    });
    refusal(
      { method: 'export_toy_cam' },
      'INVALID_OPTION',
      /method "export_toy_cam" cannot be exported: its layer map is a JavaScript function.*grad_cam, grad_cam_timeseries, grad_cam_plus_plus/,
    );
  });

  it('a layer that is no tensor of the model, or not a feature map the method takes, naming those there are', () => {
    const image = parityModel('cnn_bn');
    refusal(
      { method: 'grad_cam', layer: 'nothing' },
      'INVALID_OPTION',
      /layer "nothing" is no tensor of the model; feature maps there: "/,
      image,
    );
    refusal({ method: 'grad_cam_timeseries' }, 'INVALID_SHAPE', /grad_cam_timeseries takes a 3-D \[B, C, T\].*use grad_cam\)/, image);
    refusal(
      { method: 'grad_cam' },
      'INVALID_SHAPE',
      /grad_cam takes a 4-D \[B, C, H, W\].*use grad_cam_timeseries\)/,
      parityModel('cnn1d'),
    );
    refusal(
      { method: 'vargrad', layer: 'x' },
      'INVALID_OPTION',
      /option layer names the layer a layer method explains \(grad_cam, .*\); vargrad reads none/,
    );
  });

  it('a method on a model it has no meaning for: Grad-CAM without a feature map, LRP through an op it has no rule for', () => {
    refusal({ method: 'grad_cam_plus_plus' }, 'UNSUPPORTED_MODEL', /no layer to explain: no tensor of the input's rank 2/);
    refusal({ method: 'lrp_epsilon_0_1' }, 'UNSUPPORTED_MODEL', /LRP has no rule for (Slice|Concat|Transpose)/, parityModel('shufflenet'));
  });

  it('options that concern a run, unknown options and bad values, before any graph is built', () => {
    refusal({ method: 'vargrad', batchSize: 8 }, 'INVALID_OPTION', /unknown option "batchSize"/);
    refusal({ method: 'vargrad', target: 2 }, 'INVALID_OPTION', /unknown option "target".*targetSource/);
    refusal({ method: 'vargrad', seed: 3 }, 'INVALID_OPTION', /seed sets the noise made in the graph \(noiseSource: 'in-graph'\)/);
    refusal({ method: 'vargrad', noiseSource: 'philox' }, 'INVALID_OPTION', /noiseSource must be one of 'input', 'in-graph'/);
    refusal({ method: 'vargrad', unbiased: true, numSamples: 1 }, 'INVALID_OPTION', /numSamples must be an integer ≥ 2/);
    refusal({ method: 'vargrad_x_inputs' }, 'UNKNOWN_METHOD', /unknown method/);
    refusal(
      { method: 'gradient', inputShape: [2, 15] },
      'INVALID_SHAPE',
      /inputShape \[2, 15\] does not fit input "input" of shape \[\?, 16\]/,
    );
    refusal(
      { method: 'integrated_gradients', baseline: hostTensor(new Float32Array(3), [3]) },
      'INVALID_OPTION',
      /baseline must be a float32 HostTensor of shape \[16\] or \[1, 16\]/,
    );
  });
});
