import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostTensor, type OutputPosition } from '@saliency/core';
import { createTfjsBackend } from '../src/index.js';
import { expectClose } from './helpers/compare.js';
import { channelsLast } from './helpers/parity-fixtures.js';
import { BACKENDS, tf, useBackend } from './helpers/tfjs-setup.js';

/*
 * outputPosition on the nets of backend-onnx's output-position tests
 * (packages/backend-onnx/scripts/make-output-position-fixtures.py), as TF.js
 * LayersModels with the same weights, channels last, held to the same
 * PyTorch float64 autograd references (test/fixtures/output-position/*.json)
 * at the same positions and the same tolerance as the ONNX backend: the
 * same selection gives the same logits and map on both backends.
 *
 *   sequence  x [B, 8, 16, 3] → Conv2D 3×3 tanh → Conv2D 8×1 tanh → [B, T = 16, 6] → Dense 5, softmax: [B, T, K]
 *   dense     x [B, 12, 12, 3] → Conv2D 3×3 relu → Conv2D 1×1 → Activation sigmoid: [B, H, W, K = 2]
 */

const repository = new URL('../../../', import.meta.url);
const fixtures = new URL('packages/backend-onnx/test/fixtures/output-position/', repository);
/** The ONNX backend's tolerance against these references (its test/helpers/vargrad-reference.ts). */
const REFERENCE_TOLERANCE = 1e-4;

interface PositionReference {
  inputShape: number[];
  input: number[];
  positions: Array<{ position: OutputPosition; targets: number[]; logits: number[]; gradient: number[] }>;
}

type StateDict = Record<string, [number[], number[]]>;

/** The PyTorch weights the fixture script makes (its seed, its classes), read by importing it with Debian's python3. */
function pytorchWeights(): Record<'sequence' | 'dense', StateDict> {
  const script = fileURLToPath(new URL('packages/backend-onnx/scripts/make-output-position-fixtures.py', repository));
  const code = `
import importlib.util, json, torch
spec = importlib.util.spec_from_file_location('fixtures', ${JSON.stringify(script)})
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
out = {}
for name, cls in (('sequence', m.Sequence), ('dense', m.Dense)):
    torch.manual_seed(m.SEED)
    out[name] = {k: [list(v.shape), v.flatten().tolist()] for k, v in cls().eval().state_dict().items()}
print(json.dumps(out))
`;
  const run = spawnSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<'sequence' | 'dense', StateDict>;
}

/** A PyTorch Conv2d weight [O, I, kh, kw] as TF.js's kernel [kh, kw, I, O]. */
function convKernel([shape, values]: [number[], number[]]): tf.Tensor {
  return tf.tidy(() => tf.transpose(tf.tensor(values, shape), [2, 3, 1, 0]));
}

const vector = ([shape, values]: [number[], number[]]) => tf.tensor(values, shape);

function sequenceModel(w: StateDict): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [8, 16, 3], filters: 6, kernelSize: 3, padding: 'same', activation: 'tanh' }));
  model.add(tfl.layers.conv2d({ filters: 6, kernelSize: [8, 1], activation: 'tanh' }));
  model.add(tfl.layers.reshape({ targetShape: [16, 6] }));
  model.add(tfl.layers.dense({ units: 5, activation: 'softmax' }));
  const weights = [
    convKernel(w['c1.weight']!),
    vector(w['c1.bias']!),
    convKernel(w['c2.weight']!),
    vector(w['c2.bias']!),
    tf.transpose(vector(w['fc.weight']!)),
    vector(w['fc.bias']!),
  ];
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

function denseModel(w: StateDict): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [12, 12, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tfl.layers.conv2d({ filters: 2, kernelSize: 1 }));
  model.add(tfl.layers.activation({ activation: 'sigmoid' }));
  const weights = [convKernel(w['c1.weight']!), vector(w['c1.bias']!), convKernel(w['c2.weight']!), vector(w['c2.bias']!)];
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

/** A position over [B, C, H, W] as over [B, H, W, C]: the channel (class) axis moved last. */
function positionChannelsLast(position: OutputPosition): OutputPosition {
  return [...position.slice(1), position[0]!];
}

const reference = (name: string) => JSON.parse(readFileSync(new URL(`${name}.json`, fixtures), 'utf8')) as PositionReference;

describe.each(BACKENDS)('outputPosition on tfjs-%s, against the ONNX backend’s PyTorch float64 references', (backendName) => {
  let weights: Record<'sequence' | 'dense', StateDict>;
  beforeAll(async () => {
    await useBackend(backendName);
    weights = pytorchWeights();
  }, 120_000);

  it.each([
    ['sequence', (w: StateDict) => sequenceModel(w), (p: OutputPosition) => p],
    ['dense', (w: StateDict) => denseModel(w), positionChannelsLast],
  ] as const)('%s: logits and gradient at each position within 1e-4', async (name, build, toTfjs) => {
    const ref = reference(name);
    const model = build(weights[name]);
    const input = channelsLast(ref.input, ref.inputShape);
    const x = hostTensor(Float32Array.from(input.values), input.shape);
    try {
      for (const at of ref.positions) {
        const backend = createTfjsBackend(model, { outputPosition: toTfjs(at.position) });
        const label = `${name} at ${JSON.stringify(at.position)}`;
        expect(backend.description).toMatch(/without its final (softmax|sigmoid)/);
        expectClose((await backend.logits(x)).data, at.logits, REFERENCE_TOLERANCE, `${label} logits`);
        const gradient = await backend.gradients(x, Int32Array.from(at.targets));
        expectClose(gradient.data, channelsLast(at.gradient, ref.inputShape).values, REFERENCE_TOLERANCE, `${label} gradient`);
      }
    } finally {
      model.dispose();
    }
  });
});
