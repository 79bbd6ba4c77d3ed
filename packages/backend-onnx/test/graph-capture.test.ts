import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import { explain, hostTensor, type HostTensor } from '@saliency/core';
import { installNodeWebGpu } from '@saliency/dev-support/node-webgpu';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { uniformValues } from './helpers/check-gradient.js';
import { thrown } from './helpers/thrown.js';

/*
 * The `graphCapture` option (runtime/graph-capture.ts) on onnxruntime-web's
 * native WebGPU EP in Node, through Dawn on SwiftShader. A captured session
 * replays the kernels its first run recorded, the same kernels a session
 * without capture runs, so the maps are compared bit for bit with those of a
 * backend without capture on the same EP: logits, gradients, and VarGrad
 * with the noise made on the device (written into the captured input
 * buffer), over repeated calls and a change of batch (a second captured
 * session). The buffers the backend makes are tracked from their creation
 * to their destruction.
 */

const MODELS = new URL('fixtures/models/', import.meta.url);
const mlp = readFileSync(new URL('mlp.onnx', MODELS));
const ORT_DIST = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));

describe('the graphCapture option, refused off WebGPU', () => {
  const ort = ortNode as unknown as OnnxRuntimeModule;

  it('on onnxruntime-node: INVALID_OPTION naming the provider', () => {
    const error = thrown(() => createOnnxBackend(ort, mlp, { graphCapture: true }));
    expect(error).toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/graphCapture needs onnxruntime-web's WebGPU EP.*cpu provider/),
    });
  });

  it('not a boolean, or contradicting sessionOptions.enableGraphCapture: INVALID_OPTION', () => {
    expect(
      thrown(() =>
        createOnnxBackend(ort, mlp, {
          graphCapture: 'yes' as unknown as boolean,
        }),
      ),
    ).toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/graphCapture must be a boolean, got yes/),
    });
    expect(
      thrown(() =>
        createOnnxBackend(ort, mlp, {
          graphCapture: false,
          sessionOptions: { enableGraphCapture: true },
        }),
      ),
    ).toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/graphCapture is false but sessionOptions.enableGraphCapture is true/),
    });
  });
});

describe('graph capture on the native WebGPU EP (Dawn)', () => {
  let ort: OnnxRuntimeModule;
  /** The buffers made by this package's code (device-noise/gpu-device.ts) and not yet destroyed. */
  const ours = new Set<object>();

  beforeAll(async () => {
    await installNodeWebGpu();
    const web = await import('onnxruntime-web/webgpu');
    // The bundle fetches its .wasm by URL, which Node cannot: hand it the bytes. One thread: the work is on the GPU.
    web.env.wasm.wasmBinary = readFileSync(join(ORT_DIST, 'ort-wasm-simd-threaded.asyncify.wasm'));
    web.env.wasm.numThreads = 1;
    ort = web as unknown as OnnxRuntimeModule;
    trackOurBuffers(ours);
  }, 120_000);

  const sessionOptions = { executionProviders: ['webgpu'] };
  const input = (batch: number, seed: number) => hostTensor(Float32Array.from(uniformValues(batch * 20, seed, -1, 1)), [batch, 20]);

  it('maps equal those without capture bit for bit, over repeated calls and a change of batch; its buffers destroyed on dispose', async () => {
    const warnings: string[] = [];
    const plain = createOnnxBackend(ort, mlp, { sessionOptions });
    const captured = createOnnxBackend(ort, mlp, {
      sessionOptions,
      graphCapture: true,
      onWarning: (m) => warnings.push(m),
    });
    expect(captured.deviceNoise).toBe(true);
    try {
      // Batch 2 twice (the second call replays the captured graphs with other values), then 3: new sessions, new buffers.
      for (const [batch, seed] of [
        [2, 11],
        [2, 12],
        [3, 13],
      ] as const) {
        const x = input(batch, seed);
        const target = Array.from({ length: batch }, (_, b) => b % 5);
        const vargrad = { target, numSamples: 4, noiseScale: 0.2, seed };
        expectSameBits(await captured.logits(x), await plain.logits(x), `logits, batch ${batch}, seed ${seed}`);
        expectSameBits(
          await explain(captured, 'gradient', x, { target }),
          await explain(plain, 'gradient', x, { target }),
          `gradient, batch ${batch}, seed ${seed}`,
        );
        expectSameBits(
          await explain(captured, 'vargrad', x, vargrad),
          await explain(plain, 'vargrad', x, vargrad),
          `VarGrad (device noise), batch ${batch}, seed ${seed}`,
        );
      }
      expect(warnings).toEqual([]);
      // The captured sessions' input buffers, and the plain backend's device-noise input buffers (one per session).
      expect(ours.size).toBeGreaterThan(0);
    } finally {
      await captured.dispose();
      await plain.dispose();
    }
    expect(ours.size).toBe(0);
  }, 600_000);

  it('a graph ONNX Runtime does not capture (a node forced to the CPU) runs without capture, with one warning naming the reason', async () => {
    const warnings: string[] = [];
    const forced = {
      executionProviders: [{ name: 'webgpu', forceCpuNodeNames: ['/net/net.1/Relu'] }],
    };
    const plain = createOnnxBackend(ort, mlp, { sessionOptions: forced });
    const captured = createOnnxBackend(ort, mlp, {
      sessionOptions: forced,
      graphCapture: true,
      onWarning: (m) => warnings.push(m),
    });
    try {
      const target = [1, 4];
      for (const seed of [21, 22]) {
        const x = input(2, seed);
        expectSameBits(
          await explain(captured, 'gradient', x, { target }),
          await explain(plain, 'gradient', x, { target }),
          `gradient, seed ${seed}`,
        );
      }
      // One warning per call kind (explain runs the forward graph too), not one per call.
      expect(
        warnings.some((m) => /does not capture the gradient graph/.test(m)),
        warnings.join('\n'),
      ).toBe(true);
      expect(new Set(warnings).size, warnings.join('\n')).toBe(warnings.length);
      for (const warning of warnings) {
        expect(warning).toMatch(
          /does not capture the \w+ graph \(.*cannot use the graph capture feature.*\); its calls run without graph capture/,
        );
      }
    } finally {
      await captured.dispose();
      await plain.dispose();
    }
    expect(ours.size).toBe(0);
  }, 600_000);
});

function expectSameBits(actual: HostTensor, expected: HostTensor, what: string): void {
  expect(actual.shape, what).toEqual(expected.shape);
  const differing = [...new Uint32Array(actual.data.buffer, actual.data.byteOffset, actual.data.length)].filter(
    (bits, i) => bits !== new Uint32Array(expected.data.buffer, expected.data.byteOffset, expected.data.length)[i],
  ).length;
  expect(differing, `${what}: values whose bits differ`).toBe(0);
  // Not a vacuous comparison: the maps hold values.
  expect(
    expected.data.some((v) => v !== 0),
    what,
  ).toBe(true);
}

/** Records each GPU buffer made from this package's gpu-device.ts in `live` until it is destroyed. */
function trackOurBuffers(live: Set<object>): void {
  const { GPUDevice, GPUBuffer } = globalThis as unknown as {
    GPUDevice: { prototype: { createBuffer(descriptor: unknown): object } };
    GPUBuffer: { prototype: { destroy(): void } };
  };
  const createBuffer = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (descriptor: unknown) {
    const buffer = createBuffer.call(this, descriptor);
    if (/device-noise[\\/]gpu-device/.test(new Error().stack ?? '')) live.add(buffer);
    return buffer;
  };
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function () {
    live.delete(this);
    destroy.call(this);
  };
}
