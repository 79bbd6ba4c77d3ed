import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { explain, hostTensor } from '@saliency/core';
import { installNodeWebGpu } from '@saliency/dev-support/node-webgpu';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';

/*
 * The `graphCapture` option on onnxruntime-web's JSEP build (`/all`, as the
 * default bundle), through Dawn on SwiftShader: it captures the 1-D CNN's
 * forward graph but not its gradient and moments graphs (a node left to the
 * CPU), which run without capture; after a captured session has run, that
 * build refuses a new GPU-buffer input for any session, so a session that is
 * not captured must take the device noise in the same buffer every run
 * (runtime/device-noise.ts, `DeviceInputs`). Maps against a backend without
 * capture on the same EP, bit for bit, over calls with other seeds.
 */

const ORT_DIST = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
const cnn1d = readFileSync(new URL('fixtures/models/cnn1d.onnx', import.meta.url));

it('JSEP: graphs refused for capture run beside captured ones, with device noise, equal bit for bit to no capture', async () => {
  await installNodeWebGpu();
  const web = await import('onnxruntime-web/all');
  // The bundle fetches its .wasm by URL, which Node cannot: hand it the bytes. One thread: the work is on the GPU.
  web.env.wasm.wasmBinary = readFileSync(join(ORT_DIST, 'ort-wasm-simd-threaded.jsep.wasm'));
  web.env.wasm.numThreads = 1;
  const ort = web as unknown as OnnxRuntimeModule;
  const sessionOptions = { executionProviders: ['webgpu'] };
  const warnings: string[] = [];
  const plain = createOnnxBackend(ort, cnn1d, { sessionOptions });
  const captured = createOnnxBackend(ort, cnn1d, { sessionOptions, graphCapture: true, onWarning: (m) => warnings.push(m) });
  try {
    for (const seed of [1, 2]) {
      const x = hostTensor(
        Float32Array.from({ length: 2 * 12 * 128 }, (_, i) => Math.sin(i * seed)),
        [2, 12, 128],
      );
      const options = { target: [0, 1], numSamples: 4, noiseScale: 0.2, seed };
      // A captured session runs first (the forward graph), then the moments graph, which is not captured.
      const logits = await captured.logits(x);
      expect([...logits.data]).toEqual([...(await plain.logits(x)).data]);
      const a = await explain(captured, 'vargrad', x, options);
      const b = await explain(plain, 'vargrad', x, options);
      expect(a.data.filter((v, i) => !Object.is(v, b.data[i])).length, `VarGrad, seed ${seed}: values that differ`).toBe(0);
      expect(b.data.some((v) => v !== 0)).toBe(true);
    }
    expect(warnings.length, warnings.join('\n')).toBeGreaterThan(0);
    for (const warning of warnings) expect(warning).toMatch(/does not capture the \w+ graph .*partitioned to the JsExecutionProvider/);
  } finally {
    await captured.dispose();
    await plain.dispose();
  }
}, 600_000);
