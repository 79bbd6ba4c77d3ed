import { modelArtifacts } from '@saliency/backend-tfjs';
import type { io } from '@tensorflow/tfjs';
import { fillStandardNormal, hostTensor, sizeOf, type HostTensor } from '@saliency/core';
import { LRP_METHODS, type LrpMethod } from './methods.js';
import { channelsFirst, channelsLast, checkLayouts, type Layouts } from './layout.js';

/** A reference map of a noisy method, from the noise described in `ReferenceJson.noise`. */
export interface NoisyReference {
  readonly numSamples: number;
  readonly sigma: number;
  readonly seed: number;
  readonly values: number[];
}

/**
 * The reference data the fixture script writes (fixtures/reference/<name>.json),
 * float64 PyTorch autograd results, every array flat and in the ONNX layout.
 */
export interface ReferenceJson {
  readonly name: string;
  readonly inputShape: number[];
  readonly layout: Layouts;
  /** The noise: ε[b, i] = σ · fillStandardNormal(seed, b, i) over one example in the ONNX layout, rounded to float32. */
  readonly noise: { seed: number; numSamples: number; sigma: number; shape: number[]; sha256: string };
  readonly input: number[];
  readonly targets: number[];
  /**
   * Where the exported models end in a probability head (`'sigmoid'`), the
   * logits and every map here are of its input, as the backends
   * differentiate by default.
   */
  readonly probabilityHead?: 'sigmoid';
  readonly logits: number[];
  readonly gradient: number[];
  /** Population variance over the samples. */
  readonly vargrad: NoisyReference;
  readonly smoothgrad: NoisyReference;
  /** Right Riemann sum, k = 1..steps, zero baseline. */
  readonly integrated_gradients: { steps: number; baseline: string; values: number[] };
}

/**
 * The references fixtures/make-xai-references.py writes
 * (fixtures/xai-reference/<name>.json) for the fixture's batch and targets:
 * float64 maps of the modified-backward and layer methods in the ONNX layout
 * (a layer method's `[B, 1, ...positions]`), and for each method without
 * one, why it does not apply to the model.
 */
export interface XaiReferenceJson extends Partial<Record<LrpMethod, number[]>> {
  readonly name: string;
  readonly inputShape: number[];
  readonly targets: number[];
  /** The module whose output the Grad-CAM references weigh, and its shape. */
  readonly layer?: string;
  readonly layerShape?: number[];
  readonly notApplicable: Readonly<Record<string, string>>;
  readonly guided_backprop?: number[];
  readonly deconvnet?: number[];
  readonly grad_cam?: number[];
  readonly grad_cam_plus_plus?: number[];
  readonly grad_cam_timeseries?: number[];
}

/** The TF.js layers model as `tf.io.fromMemory` takes it. */
export type TfjsArtifacts = io.ModelArtifacts;

/** Reads a fixture's files by path relative to the fixtures folder (fs in Node, fetch in a page). */
export interface FixtureFiles {
  text(path: string): Promise<string>;
  bytes(path: string): Promise<Uint8Array>;
}

/** A fixture with its models in memory and its data as typed arrays. */
export interface LoadedFixture {
  readonly name: string;
  readonly layouts: Layouts;
  readonly reference: ReferenceJson;
  readonly xaiReference: XaiReferenceJson;
  /** The input in the ONNX layout. */
  readonly input: HostTensor;
  readonly numSamples: number;
  /** `[B, N, ...S]` in the ONNX layout. */
  readonly noise: HostTensor;
  readonly steps: number;
  readonly onnx: Uint8Array;
  /**
   * The same ONNX model with its batch dimension fixed to the input's batch
   * (`models/<name>.static-b<B>.onnx`): ONNX Runtime Web's WebGL EP refuses a
   * symbolic input dimension, and the plain-session check needs to run there.
   */
  readonly onnxStaticBatch: Uint8Array;
  readonly tfjs: TfjsArtifacts;
}

function requireArray(json: ReferenceJson, field: string, value: unknown, length: number): number[] {
  if (!Array.isArray(value) || value.length !== length) {
    const got = Array.isArray(value) ? `${value.length} values` : typeof value;
    throw new Error(`fixture ${json.name}: ${field} must hold ${length} numbers; got ${got}`);
  }
  return value as number[];
}

/**
 * The fixture's noise `[B, N, ...S]` in the ONNX layout, rebuilt from its seed
 * with core's generator and checked against the recorded SHA-256 of its
 * float32 bytes, so that a change to the generator cannot pass unnoticed.
 */
export async function fixtureNoise(json: ReferenceJson): Promise<HostTensor> {
  const { seed, numSamples, sigma, shape, sha256 } = json.noise;
  const [batch = 0, samples, ...example] = shape;
  if (batch !== json.inputShape[0] || samples !== numSamples || sizeOf(example) !== sizeOf(json.inputShape.slice(1))) {
    throw new Error(
      `fixture ${json.name}: noise shape [${shape.join(', ')}] does not fit input [${json.inputShape.join(', ')}] with ${numSamples} samples`,
    );
  }
  const size = sizeOf(example);
  const data = new Float32Array(batch * numSamples * size);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < numSamples; i++) {
      const out = data.subarray((b * numSamples + i) * size, (b * numSamples + i + 1) * size);
      fillStandardNormal(out, seed, b, i);
      for (let e = 0; e < size; e++) out[e] = out[e]! * sigma;
    }
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(data.buffer)));
  const hex = Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
  if (hex !== sha256) throw new Error(`fixture ${json.name}: noise from seed ${seed} hashes to ${hex}, not the recorded ${sha256}`);
  return hostTensor(data, shape);
}

/** The xai references must be of this fixture's batch and targets, each map of its method's size. */
function checkXaiReference(reference: ReferenceJson, xai: XaiReferenceJson): void {
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  if (!same(xai.inputShape, reference.inputShape) || !same(xai.targets, reference.targets)) {
    throw new Error(
      `fixture ${reference.name}: xai-reference/${reference.name}.json is of input [${xai.inputShape.join(', ')}] and targets ` +
        `[${xai.targets.join(', ')}], not the fixture's; rerun fixtures/make-xai-references.py`,
    );
  }
  const [batch = 0, , ...positions] = reference.inputShape;
  const size = sizeOf(reference.inputShape);
  for (const method of ['guided_backprop', 'deconvnet'] as const) requireArray(reference, `xai ${method}`, xai[method], size);
  for (const method of LRP_METHODS) {
    if (xai[method] !== undefined) requireArray(reference, `xai ${method}`, xai[method], size);
  }
  for (const method of ['grad_cam', 'grad_cam_plus_plus', 'grad_cam_timeseries'] as const) {
    if (xai[method] !== undefined) requireArray(reference, `xai ${method}`, xai[method], batch * sizeOf(positions));
  }
}

export async function loadFixture(name: string, files: FixtureFiles): Promise<LoadedFixture> {
  const reference = JSON.parse(await files.text(`reference/${name}.json`)) as ReferenceJson;
  checkLayouts(reference.layout);
  const size = sizeOf(reference.inputShape);
  const batch = reference.inputShape[0]!;
  requireArray(reference, 'input', reference.input, size);
  requireArray(reference, 'targets', reference.targets, batch);
  requireArray(reference, 'gradient', reference.gradient, size);
  for (const noisy of [reference.smoothgrad, reference.vargrad]) {
    if (noisy.seed !== reference.noise.seed || noisy.numSamples !== reference.noise.numSamples) {
      throw new Error(
        `fixture ${name}: a noisy reference was made from other noise (seed ${noisy.seed}, ${noisy.numSamples} samples) than noise (seed ${reference.noise.seed}, ${reference.noise.numSamples} samples)`,
      );
    }
  }
  requireArray(reference, 'smoothgrad.values', reference.smoothgrad.values, size);
  requireArray(reference, 'vargrad.values', reference.vargrad.values, size);
  requireArray(reference, 'integrated_gradients.values', reference.integrated_gradients.values, size);
  if (reference.integrated_gradients.baseline !== 'zeros') {
    throw new Error(`fixture ${name}: integrated_gradients.baseline must be 'zeros'; got ${reference.integrated_gradients.baseline}`);
  }

  const xaiReference = JSON.parse(await files.text(`xai-reference/${name}.json`)) as XaiReferenceJson;
  checkXaiReference(reference, xaiReference);

  const modelJson = JSON.parse(await files.text(`models/${name}-tfjs/model.json`)) as io.ModelJSON;
  const tfjs = await modelArtifacts(modelJson, (path) => files.bytes(`models/${name}-tfjs/${path}`));

  return {
    name,
    layouts: reference.layout,
    reference,
    xaiReference,
    input: hostTensor(Float32Array.from(reference.input), reference.inputShape),
    numSamples: reference.noise.numSamples,
    noise: await fixtureNoise(reference),
    steps: reference.integrated_gradients.steps,
    onnx: await files.bytes(`models/${name}.onnx`),
    onnxStaticBatch: await files.bytes(`models/${name}.static-b${batch}.onnx`),
    tfjs,
  };
}

/** The input and noise in the layout a model takes, and a way back for its maps. */
export interface ModelView {
  readonly input: HostTensor;
  readonly noise: HostTensor;
  /** Turns a map in this model's layout into the ONNX layout. */
  toOnnxLayout(map: HostTensor): Float32Array;
}

export function viewFor(fixture: LoadedFixture, model: 'onnx' | 'tfjs'): ModelView {
  if (model === 'onnx') return { input: fixture.input, noise: fixture.noise, toOnnxLayout: (map) => map.data };
  const layout = fixture.layouts.onnx;
  const input = channelsLast(fixture.input.data, fixture.input.shape, layout, 1);
  const noise = channelsLast(fixture.noise.data, fixture.noise.shape, layout, 2);
  return {
    input: hostTensor(input.data, input.shape),
    noise: hostTensor(noise.data, noise.shape),
    toOnnxLayout: (map) => channelsFirst(map.data, map.shape, layout, 1).data,
  };
}
