// The byte counts the bench reports (src/transfers.mjs), checked against the
// sizes of the tensors themselves: float32 values are 4 bytes each.
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { createOnnxBackend } from '@saliency/backend-onnx';
import { VarGrad } from '@saliency/core';
import { describe, expect, it } from 'vitest';
import { FIXTURE_MODELS } from '../src/cases.mjs';
import { installWebGpu } from '../src/engines/webgpu-node.mjs';
import { countGpuQueueWrites, countGpuReadbacks, countOrtTransfers, countTfjsTransfers, createTransferCounter } from '../src/transfers.mjs';

/** The fixture MLP: `[B, 20]` in, `[B, classes]` out. */
const FEATURES = 20;
const mlp = () => readFile(`${FIXTURE_MODELS}mlp.onnx`);

describe('ONNX Runtime transfers', () => {
  it('counts the bytes of every feed and every output of a session run, and nothing outside start()…stop()', async () => {
    const counter = createTransferCounter();
    const session = await countOrtTransfers(ort, counter).InferenceSession.create(await mlp());
    const rows = 7;
    const feed = new ort.Tensor('float32', new Float32Array(rows * FEATURES).fill(0.5), [rows, FEATURES]);
    await session.run({ [session.inputNames[0]]: feed }); // not counted
    counter.start();
    const outputs = await session.run({ [session.inputNames[0]]: feed });
    const counted = counter.stop();
    const output = outputs[session.outputNames[0]];
    expect(output.dims[0]).toBe(rows);
    expect(counted).toEqual({ uploadBytes: rows * FEATURES * 4, uploads: 1, downloadBytes: output.size * 4, downloads: 1 });
    await session.release();
  });

  it('VarGrad on onnxruntime-node uploads every noisy sample and reads back at least one map', async () => {
    const counter = createTransferCounter();
    const backend = createOnnxBackend(countOrtTransfers(ort, counter), new Uint8Array(await mlp()));
    try {
      const x = { data: new Float32Array(FEATURES).fill(0.25), shape: [1, FEATURES] };
      for (const numSamples of [4, 16]) {
        counter.start();
        await new VarGrad(backend, { numSamples, batchSize: numSamples, seed: 1 }).attribute(x);
        const counted = counter.stop();
        // core's noise is made on the host, so each noisy row crosses once
        expect(counted.uploadBytes).toBeGreaterThanOrEqual(numSamples * FEATURES * 4);
        expect(counted.downloadBytes).toBeGreaterThanOrEqual(FEATURES * 4);
      }
    } finally {
      await backend.dispose();
    }
  });
});

describe('TF.js transfers', () => {
  it('counts tensors made from values and tensors read back, and stops counting once undone', async () => {
    await tf.setBackend('cpu');
    const counter = createTransferCounter();
    const uncount = countTfjsTransfers(tf, counter);
    try {
      counter.start();
      const a = tf.tensor(new Float32Array(12).fill(1), [3, 4]);
      const b = tf.tensor(new Int32Array(5), [5], 'int32');
      const sum = tf.sum(a, 0); // a kernel's output: made on the backend, not uploaded
      await sum.data();
      b.dataSync();
      const counted = counter.stop();
      expect(counted).toEqual({ uploadBytes: 12 * 4 + 5 * 4, uploads: 2, downloadBytes: 4 * 4 + 5 * 4, downloads: 2 });
      tf.dispose([a, b, sum]);
    } finally {
      uncount();
    }
    counter.start();
    tf.tidy(() => tf.tensor([1, 2, 3]).dataSync());
    expect(counter.stop().uploads).toBe(0);
  });
});

/** Dawn's WebGPU in this process (vitest.config.mjs points it at SwiftShader without a GPU), or why not. */
const webGpu = await installWebGpu().then(
  () => ({}),
  (error) => ({ unavailable: String(error.message).split('\n')[0] }),
);
if (webGpu.unavailable) console.warn(`WebGPU queue-write and readback tests skipped: ${webGpu.unavailable}`);

describe('WebGPU queue writes and readbacks', () => {
  it.skipIf(webGpu.unavailable !== undefined)('counts writeBuffer bytes outside runtime runs and none inside one', async () => {
    const device = await (await navigator.gpu.requestAdapter()).requestDevice();
    const buffer = device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const counter = createTransferCounter();
    const uncount = countGpuQueueWrites(globalThis.GPUQueue, counter);
    try {
      counter.start();
      device.queue.writeBuffer(buffer, 0, new Float32Array(7)); // 28 bytes
      device.queue.writeBuffer(buffer, 0, new Uint32Array(8), 2, 4); // elements 2…5: 16 bytes
      device.queue.writeBuffer(buffer, 0, new ArrayBuffer(12)); // 12 bytes
      await counter.runtimeRun(async () => device.queue.writeBuffer(buffer, 0, new Float32Array(16))); // the runtime's own
      expect(counter.stop()).toEqual({ uploadBytes: 28 + 16 + 12, uploads: 3, downloadBytes: 0, downloads: 0 });
    } finally {
      uncount();
      buffer.destroy();
      device.destroy();
    }
  });

  it.skipIf(webGpu.unavailable !== undefined)(
    'counts the bytes mapped for reading outside runtime runs, none inside one or for writing',
    async () => {
      const device = await (await navigator.gpu.requestAdapter()).requestDevice();
      const readable = () => device.createBuffer({ size: 64, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const buffers = [readable(), readable(), readable()];
      const writable = device.createBuffer({ size: 32, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC });
      const counter = createTransferCounter();
      const uncount = countGpuReadbacks(globalThis.GPUBuffer, counter);
      try {
        counter.start();
        await buffers[0].mapAsync(GPUMapMode.READ); // the whole buffer: 64 bytes
        await buffers[1].mapAsync(GPUMapMode.READ, 16, 8); // 8 bytes
        await writable.mapAsync(GPUMapMode.WRITE); // not a read
        await counter.runtimeRun(() => buffers[2].mapAsync(GPUMapMode.READ)); // the runtime's own
        expect(counter.stop()).toEqual({ uploadBytes: 0, uploads: 0, downloadBytes: 64 + 8, downloads: 2 });
      } finally {
        uncount();
        for (const buffer of [...buffers, writable]) buffer.destroy();
        device.destroy();
      }
    },
  );
});
