import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { AttributionError, explain, hostTensor, type HostTensor } from '@saliency/core';
import {
  createOnnxBackend,
  exportAttributionModel,
  MAP_OUTPUT,
  NOISE_INPUT,
  type OnnxRuntimeModule,
  type OutputPosition,
  TARGET_INPUT,
} from '../src/index.js';
import { expectClose } from './helpers/check-gradient.js';
import { runExported, seededNoiseTensor, type Runtime } from './helpers/export-fixtures.js';
import { paddleOcrModel } from './helpers/output-position-check.js';
import { REFERENCE_TOLERANCE } from './helpers/vargrad-reference.js';

/**
 * Two small models whose output is not [B, K] (scripts/make-output-position-fixtures.py):
 * a sequence [B, T, K] behind a Softmax and a dense map [B, 2, H, W] behind a
 * Sigmoid, each explained at a fixed index and over a range, against PyTorch
 * autograd in float64 of the logits at the position.
 */
interface PositionReference {
  model: string;
  inputShape: number[];
  input: number[];
  positions: Array<{ position: OutputPosition; targets: number[]; logits: number[]; gradient: number[] }>;
}

const fixtures = new URL('./fixtures/output-position/', import.meta.url);
const references = readdirSync(fixtures)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(new URL(f, fixtures), 'utf8')) as PositionReference);
const modelBytes = (name: string) => readFileSync(new URL(`models/${name}`, fixtures));
const reference = (name: string) => references.find((r) => r.model === name)!;
const cases = references.flatMap((r) => r.positions.map((p) => [r.model, JSON.stringify(p.position), r, p] as const));
const RUNTIMES: Array<[string, OnnxRuntimeModule, object]> = [
  ['onnxruntime-node', ortNode as unknown as OnnxRuntimeModule, {}],
  ['onnxruntime-web wasm', ortWeb as unknown as OnnxRuntimeModule, { executionProviders: ['wasm'] }],
];
const node = ortNode as unknown as OnnxRuntimeModule;
const inputOf = (r: PositionReference) => hostTensor(Float32Array.from(r.input), r.inputShape);

describe.each(cases)('%s at %s', (model, _, ref, at) => {
  const x = inputOf(ref);
  const targets = Int32Array.from(at.targets);

  it.each(RUNTIMES)('on %s: logits and gradient within 1e-4 of PyTorch autograd in float64', async (_, ort, sessionOptions) => {
    const backend = createOnnxBackend(ort, modelBytes(model), { outputPosition: at.position, sessionOptions });
    try {
      const logits = await backend.logits(x);
      expect(logits.shape).toEqual([ref.inputShape[0], at.logits.length / ref.inputShape[0]!]);
      expectClose(logits.data, at.logits, REFERENCE_TOLERANCE, 'logits');
      expectClose((await backend.gradients(x, targets)).data, at.gradient, REFERENCE_TOLERANCE, 'gradient');
      expectClose(
        (await explain(backend, 'gradient_x_input', x, { target: at.targets })).data,
        xTimes(x, at.gradient),
        1e-4,
        'gradient × input',
      );
    } finally {
      await backend.dispose();
    }
  });

  it('the exported gradient model carries the position: its map is the reference gradient', async () => {
    const exported = exportAttributionModel(modelBytes(model), {
      method: 'gradient',
      outputPosition: at.position,
      inputShape: ref.inputShape,
      targetSource: 'input',
    });
    const outputs = await runExported(node as unknown as Runtime, exported, {
      input: x.data,
      [TARGET_INPUT]: BigInt64Array.from(at.targets, (t) => BigInt(t)),
    });
    expectClose(outputs[MAP_OUTPUT]!.data as Float32Array, at.gradient, REFERENCE_TOLERANCE, 'exported gradient');
  });
});

describe('exported methods at a position equal the library’s', () => {
  const OPTIONS = { numSamples: 4, steps: 8, seed: 7, noiseScale: 0.3 } as const;
  it.each([
    ['sequence.onnx', ['vargrad', 'smoothgrad_x_input', 'integrated_gradients']],
    ['dense.onnx', ['vargrad', 'integrated_gradients', 'lrp_epsilon_0_1', 'guided_backprop', 'grad_cam']],
  ])('%s at its range: %j', async (model, methods) => {
    const ref = reference(model);
    const at = ref.positions[1]!;
    const x = inputOf(ref);
    const backend = createOnnxBackend(node, modelBytes(model), { outputPosition: at.position });
    try {
      for (const method of methods) {
        const exported = exportAttributionModel(modelBytes(model), {
          method,
          outputPosition: at.position,
          inputShape: ref.inputShape,
          targetSource: 'input',
          numSamples: OPTIONS.numSamples,
          steps: OPTIONS.steps,
        });
        const outputs = await runExported(node as unknown as Runtime, exported, {
          input: x.data,
          [TARGET_INPUT]: BigInt64Array.from(at.targets, (t) => BigInt(t)),
          [NOISE_INPUT]: seededNoiseTensor(ref.inputShape, OPTIONS.numSamples, OPTIONS.seed, OPTIONS.noiseScale),
        });
        const library = await explain(backend, method, x, { ...OPTIONS, target: at.targets });
        expectClose(outputs[MAP_OUTPUT]!.data as Float32Array, library.data, 1e-5, `exported ${method}`);
      }
    } finally {
      await backend.dispose();
    }
  });
});

function xTimes(x: HostTensor, gradient: readonly number[]): number[] {
  return gradient.map((g, i) => g * x.data[i]!);
}

describe('the output head', () => {
  it("is left out before the position is taken; with softmax: 'keep' the position holds the model's probabilities", async () => {
    const ref = reference('sequence.onnx');
    const at = ref.positions[0]!;
    const backend = createOnnxBackend(node, modelBytes('sequence.onnx'), { outputPosition: at.position, softmax: 'keep' });
    try {
      const classes = at.logits.length / ref.inputShape[0]!;
      const probabilities = at.logits.map((_, i) => {
        const row = at.logits.slice(i - (i % classes), i - (i % classes) + classes);
        const top = Math.max(...row);
        return Math.exp(at.logits[i]! - top) / row.reduce((sum, z) => sum + Math.exp(z - top), 0);
      });
      expectClose((await backend.logits(inputOf(ref))).data, probabilities, REFERENCE_TOLERANCE, 'probabilities at the position');
    } finally {
      await backend.dispose();
    }
  });
});

describe('every method on a position', () => {
  it('Integrated Gradients on the sequence model sums to the change of the logit at the position (completeness)', async () => {
    const ref = reference('sequence.onnx');
    const at = ref.positions[1]!;
    const backend = createOnnxBackend(node, modelBytes('sequence.onnx'), { outputPosition: at.position });
    try {
      const x = inputOf(ref);
      const map = await explain(backend, 'integrated_gradients', x, { target: at.targets, steps: 256, baseline: 0 });
      const [rows, classes] = [ref.inputShape[0]!, at.logits.length / ref.inputShape[0]!];
      const zero = await backend.logits(hostTensor(new Float32Array(x.data.length), ref.inputShape));
      const size = x.data.length / rows;
      for (let row = 0; row < rows; row++) {
        const target = at.targets[row]!;
        const change = at.logits[row * classes + target]! - zero.data[row * classes + target]!;
        const sum = map.data.subarray(row * size, (row + 1) * size).reduce((s, v) => s + v, 0);
        expect(Math.abs(sum - change), `row ${row}: Σ IG ${sum} against f(x) − f(0) = ${change}`).toBeLessThan(
          2e-3 * Math.abs(change) + 1e-4,
        );
      }
    } finally {
      await backend.dispose();
    }
  });

  it('VarGrad, SmoothGrad, Grad-CAM and Guided Backprop run at a position of the dense model; LRP-z is gradient × input there', async () => {
    const ref = reference('dense.onnx');
    const x = inputOf(ref);
    for (const at of ref.positions) {
      const target = at.targets;
      const backend = createOnnxBackend(node, modelBytes('dense.onnx'), { outputPosition: at.position });
      try {
        for (const method of ['vargrad', 'smoothgrad', 'guided_backprop']) {
          const map = await explain(backend, method, x, { target, numSamples: 4, noiseScale: 0.2, seed: 3 });
          expect(map.shape, method).toEqual(ref.inputShape);
          // VarGrad may be 0 everywhere: the ReLUs that this position reads may take the same decisions on every sample.
          expect(map.data.every(Number.isFinite) && (method === 'vargrad' || map.data.some((v) => v !== 0)), method).toBe(true);
        }
        const cam = await explain(backend, 'grad_cam', x, { target });
        expect(cam.data.some((v) => v !== 0)).toBe(true);
        // On a Conv–ReLU–Conv net LRP's z-rule passes the ordinary gradient (docs/methods.md, "LRP"): its map is x ⊙ ∇.
        expectClose((await explain(backend, 'lrp_z', x, { target })).data, xTimes(x, at.gradient), 1e-4, 'lrp_z');
      } finally {
        await backend.dispose();
      }
    }
  });
});

describe('outputPosition is checked before any work', () => {
  const invalid = async (model: string, outputPosition: unknown, message: RegExp, shape?: number[]) => {
    const bytes = model === 'sequence.onnx' || model === 'dense.onnx' ? modelBytes(model) : readFileSync(model);
    let error: unknown;
    try {
      const backend = createOnnxBackend(node, bytes, { outputPosition: outputPosition as OutputPosition });
      error = await backend.logits(hostTensor(new Float32Array(shape!.reduce((a, b) => a * b, 1)), shape!)).catch((e: unknown) => e);
      await backend.dispose();
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(AttributionError);
    expect((error as AttributionError).code).toBe('INVALID_OPTION');
    expect((error as AttributionError).message).toMatch(message);
  };

  it.each([
    ['not an array', 3, /option outputPosition must be a non-empty array, got 3/],
    ['an empty array', [], /must be a non-empty array/],
    ['no null', [3, 2], /must hold exactly one null \(the class axis\), got 0/],
    ['two nulls', [null, null], /exactly one null \(the class axis\), got 2/],
    ['too few entries', [null], /has 1 entry for an output of 2 axes after the batch axis \(shape \[B, 16, 5\]\)/],
    ['too many entries', [1, 2, null], /has 3 entries for an output of 2 axes/],
    ['a negative index', [-1, null], /has -1 at axis 1, not an integer ≥ 0/],
    ['a fraction', [1.5, null], /has 1\.5 at axis 1, not an integer ≥ 0/],
    ['an index past the axis', [16, null], /has index 16 at axis 1 of size 16: allowed are 0 … 15/],
    ['an empty range', [[4, 4], null], /has \[4,4\] at axis 1, neither an index nor a range \[start, end\)/],
    ['a range past the axis', [[10, 17], null], /has range \[10, 17\) at axis 1 of size 16: allowed are ranges inside \[0, 16\)/],
    ['a string', ['3', null], /has "3" at axis 1, neither an index nor a range/],
  ])('on the sequence model [B, 16, 5]: %s', async (_, position, message) => {
    await invalid('sequence.onnx', position, message, [1, 3, 8, 16]);
  });

  it('where the output declares free sizes, at the first call: an index past the recogniser’s T = 8 for an input 64 wide', async () => {
    await invalid(
      paddleOcrModel('ch_PP-OCRv4_rec_infer.onnx'),
      [8, null],
      /has index 8 at axis 1 of size 8: allowed are 0 … 7/,
      [1, 3, 48, 64],
    );
  });

  it('its form before the model is read: INVALID_OPTION for bytes that are no model', () => {
    expect(() => createOnnxBackend(node, new Uint8Array([1, 2, 3]), { outputPosition: [1, 2] })).toThrow(
      /^createOnnxBackend: option outputPosition must hold exactly one null/,
    );
  });

  it('by exportAttributionModel too', () => {
    expect(() => exportAttributionModel(modelBytes('dense.onnx'), { method: 'gradient', outputPosition: [null, 1, [3]] as never })).toThrow(
      /exportAttributionModel: option outputPosition has \[3\] at axis 3, neither an index nor a range/,
    );
    expect(() =>
      exportAttributionModel(modelBytes('dense.onnx'), { method: 'gradient', outputPosition: [null, 12, 0], inputShape: [1, 3, 12, 12] }),
    ).toThrow(/option outputPosition has index 12 at axis 2 of size 12/);
  });

  it('without it, a sequence output is refused naming the option', async () => {
    const backend = createOnnxBackend(node, modelBytes('sequence.onnx'));
    const error = await backend.logits(inputOf(reference('sequence.onnx'))).catch((e: unknown) => e);
    await backend.dispose();
    expect((error as AttributionError).code).toBe('BACKEND_OUTPUT');
    expect((error as AttributionError).message).toMatch(
      /output "logits" without its final Softmax node .* has shape \[2, 16, 5\] .*; to explain one position of a sequence or dense output, pass the option outputPosition, e\.g\. \[0, :\] as \[0,null\]/,
    );
  });
});
