import type * as tfjs from '@tensorflow/tfjs';
import { explain, type DeviceNoiseAgreement, type GradientBackend, type RuntimeId } from '@saliency/core';
import { createTfjsBackend, deviceNoiseAgreement as tfjsAgreement } from '@saliency/backend-tfjs';
import { createOnnxBackend, deviceNoiseAgreement as onnxAgreement, type OnnxRuntimeModule } from '@saliency/backend-onnx';
import type { LoadedFixture } from './fixture.js';
import { isApplicable, referenceMaps } from './methods.js';
import { relativeMaxError } from './metrics.js';
import { TOLERANCE } from './tolerance.js';

type Tf = typeof tfjs;

/** The runtimes whose backend generates core's noise on the device (docs/methods.md, "Noise"). */
export const DEVICE_NOISE_RUNTIMES = ['tfjs-webgl', 'tfjs-webgpu', 'onnx-webgpu'] as const satisfies readonly RuntimeId[];
export type DeviceNoiseRuntime = (typeof DEVICE_NOISE_RUNTIMES)[number];

type DeviceNoiseBackend = GradientBackend & Required<Pick<GradientBackend, 'deviceNoise' | 'gradientMoments' | 'noisyGradientMoments'>>;

/**
 * One runtime's side of the cells: its device noise read back, the fixtures
 * whose references use the noise it makes, and a backend per fixture.
 */
export interface DeviceNoiseTarget {
  readonly runtime: DeviceNoiseRuntime;
  /** The device's noise read back; `fixture`: a model the runtime may need open meanwhile. */
  agreement(fixture: LoadedFixture): Promise<DeviceNoiseAgreement>;
  fixtures(all: readonly LoadedFixture[]): LoadedFixture[];
  /** A backend on `fixture`'s model, and what releases it. */
  open(fixture: LoadedFixture): Promise<{ backend: DeviceNoiseBackend; close(): Promise<void> }>;
}

/** The noisy methods whose PyTorch references the fixtures hold. */
const METHODS = ['smoothgrad', 'vargrad'] as const;

/** Rows per backend call: fewer than a fixture's samples, so that calls start at sample offsets above 0. */
const BATCH_SIZE = 4;

/** A map made with the device's noise against the fixture's PyTorch reference, made with core's generator. */
export interface DeviceNoiseMapCell {
  readonly fixture: string;
  readonly method: (typeof METHODS)[number];
  readonly status: 'pass' | 'fail' | 'error';
  readonly tolerance: number;
  readonly relativeMaxError?: number;
  /** Backend calls that received the noise as a description (must be all of them). */
  readonly describedCalls?: number;
  readonly reason?: string;
}

/** The device-noise cells of one runtime: words, normals, maps. */
export interface DeviceNoiseResult {
  readonly runtime: DeviceNoiseRuntime;
  readonly column: string;
  readonly status: 'pass' | 'fail' | 'error';
  readonly agreement?: DeviceNoiseAgreement;
  readonly maps: DeviceNoiseMapCell[];
  readonly reason?: string;
}

/** What the browser page (browser/device-noise-page.ts) puts on `window` for src/node/device-noise-browser.ts. */
export interface DeviceNoisePage {
  runDeviceNoise(runtime: DeviceNoiseRuntime, fixtureNames: string[]): Promise<DeviceNoiseResult>;
}

/**
 * TF.js on webgl or webgpu (its backend module loaded). Core numbers a
 * sample's elements in the layout the model takes, so only where the TF.js
 * model takes the ONNX layout (flat inputs) is the element order, and so the
 * noise, the reference's.
 */
export async function tfjsDeviceNoiseTarget(tf: Tf, runtime: 'tfjs-webgl' | 'tfjs-webgpu'): Promise<DeviceNoiseTarget> {
  const backendName = runtime.slice('tfjs-'.length);
  if (!(await tf.setBackend(backendName))) throw new Error(`TF.js backend ${backendName} failed to initialise`);
  await tf.ready();
  return {
    runtime,
    agreement: tfjsAgreement,
    fixtures: (all) => all.filter((fixture) => fixture.layouts.tfjs === fixture.layouts.onnx),
    async open(fixture) {
      const model = await tf.loadLayersModel(tf.io.fromMemory(fixture.tfjs));
      const close = async (): Promise<void> => void model.dispose();
      return { backend: createTfjsBackend(model), close };
    },
  };
}

/**
 * onnxruntime-web's WebGPU EP (`ort` its `/webgpu` entry): the references
 * are made in the ONNX layout, so every fixture's noise is the device's.
 */
export function onnxDeviceNoiseTarget(ort: OnnxRuntimeModule): DeviceNoiseTarget {
  return {
    runtime: 'onnx-webgpu',
    // With a session open: ONNX Runtime releases its device with its last session.
    async agreement(fixture) {
      const session = await ort.InferenceSession.create(fixture.onnx, { executionProviders: ['webgpu'] });
      try {
        return await onnxAgreement(ort);
      } finally {
        await session.release();
      }
    },
    fixtures: (all) => [...all],
    async open(fixture) {
      const backend = createOnnxBackend(ort, fixture.onnx, { sessionOptions: { executionProviders: ['webgpu'] } });
      return { backend, close: () => backend.dispose() };
    },
  };
}

/**
 * On the target's runtime: the device's Philox words against core's bit for
 * bit, its normals' largest difference in ulps, and SmoothGrad and VarGrad
 * with the noise made on the device (seeded, no `noise` option) against the
 * PyTorch references, within the GPU tolerance.
 */
export async function runDeviceNoiseCells(target: DeviceNoiseTarget, fixtures: readonly LoadedFixture[]): Promise<DeviceNoiseResult> {
  const { runtime } = target;
  const column = `${runtime}@chromium`;
  const tolerance = TOLERANCE.gpu;
  const maps: DeviceNoiseMapCell[] = [];
  for (const fixture of target.fixtures(fixtures)) {
    const references = referenceMaps(fixture);
    // One backend for the fixture's methods, as the parity columns have
    // (run-suite.ts): a session and its shaders made once, not per method.
    const { backend, close } = await target.open(fixture);
    try {
      for (const method of METHODS) {
        let describedCalls = 0;
        const counted: GradientBackend = {
          name: backend.name,
          deviceNoise: backend.deviceNoise,
          logits: (x) => backend.logits(x),
          gradients: (x, targets) => backend.gradients(x, targets),
          gradientMoments: (x, targets, n, request) => backend.gradientMoments(x, targets, n, request),
          noisyGradientMoments: (x, noise, targets) => {
            describedCalls++;
            return backend.noisyGradientMoments(x, noise, targets);
          },
        };
        try {
          const { noise } = fixture.reference;
          const map = await explain(counted, method, fixture.input, {
            target: fixture.reference.targets,
            numSamples: noise.numSamples,
            seed: noise.seed,
            noiseScale: noise.sigma,
            batchSize: BATCH_SIZE,
          });
          const reference = references[method];
          if (!isApplicable(reference)) throw new Error(`${fixture.name} has no ${method} reference: ${reference.notApplicable}`);
          const error = relativeMaxError(map.data, reference.values);
          const expectedCalls = fixture.input.shape[0]! * Math.ceil(noise.numSamples / BATCH_SIZE);
          const status = error <= tolerance && describedCalls === expectedCalls ? 'pass' : 'fail';
          maps.push({ fixture: fixture.name, method, status, tolerance, relativeMaxError: error, describedCalls });
        } catch (error) {
          maps.push({
            fixture: fixture.name,
            method,
            status: 'error',
            tolerance,
            reason: error instanceof Error ? error.message : String(error),
          });
        }
      }
    } finally {
      await close();
    }
  }
  let agreement: DeviceNoiseAgreement;
  try {
    agreement = await target.agreement(fixtures[0]!);
  } catch (error) {
    const reason = `the device noise read back failed: ${error instanceof Error ? error.message : String(error)}`;
    return { runtime, column, status: 'error', maps, reason };
  }
  const exact = agreement.wordMismatches === 0;
  const status = maps.some((m) => m.status === 'error') ? 'error' : exact && maps.every((m) => m.status === 'pass') ? 'pass' : 'fail';
  return { runtime, column, status, agreement, maps };
}
