// One case in its own process, so that its peak memory is its own:
//   node src/run-case.mjs '{"engine":"onnx-node","model":"resnet18","kind":"time","numSamples":[16,64],"threads":2}'
//   node src/run-case.mjs '{"engine":"onnx-node","model":"mlp","kind":"memory","numSamples":1024,"batchSize":16,"threads":2}'
//   node src/run-case.mjs '{"engine":"tfjs-webgpu","model":"mlp","kind":"transfers","numSamples":[4,16]}'
// ("transfers": only the bytes of one warm VarGrad call per N, nothing timed.)
// With "mapsDir", the map of the last warm VarGrad call (batchSize N) of each
// N is written there and its SHA-256 recorded (maps.mjs checks it).
// Prints one line "RESULT <json>" on stdout.
import { VarGrad } from '@saliency/core';
import { MODELS } from './cases.mjs';
import { createOnnxEngine } from './engines/onnx-engines.mjs';
import { createTfjsEngine } from './engines/tfjs-engines.mjs';
import { peakRssMiB, time } from './timing.mjs';
import { createTransferCounter } from './transfers.mjs';
import { saveMap } from './maps.mjs';

const spec = JSON.parse(process.argv[2] ?? '{}');
const { engine, model, kind, threads = 2 } = spec;
const timing = spec.timing ?? {};

/** A deterministic input example (values in [-1, 1]), batch axis first. */
function example(shape, rows = 1) {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(rows * size);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(0.37 * (i % size) + 0.1);
  return { data, shape: [rows, ...shape] };
}

/**
 * The one backend call that core's VarGrad (`batchSize: N`, one example)
 * makes for the N noisy samples, made alone: with device noise
 * `noisyGradientMoments` of the clean example and the noise's description
 * (the noise pass, the gradient graph, the moments and their readback),
 * otherwise `gradientMoments` (or `gradients`) of N rows written on the host.
 * What a VarGrad call spends outside it is the target's forward pass, core's
 * bookkeeping and the JavaScript between the calls.
 */
function samplesCall(backend, x, rows, targets) {
  const n = rows.shape[0];
  if (backend.deviceNoise) {
    const noise = { seed: 1, sigma: Float64Array.of(0.3), firstExample: 0, firstSample: 0, samples: n, exampleShape: x.shape.slice(1) };
    return () => backend.noisyGradientMoments(x, noise, targets);
  }
  return backend.gradientMoments ? () => backend.gradientMoments(rows, targets, n) : () => backend.gradients(rows, targets);
}

async function main() {
  const counter = createTransferCounter();
  const started = engine.startsWith('onnx-')
    ? createOnnxEngine(engine, model, threads, counter)
    : createTfjsEngine(engine, model, threads, counter);
  const { backend, layout, info, warnings = [] } = await started;
  const shape = layout === 'onnx' ? MODELS[model].onnxShape : MODELS[model].tfjsShape;
  const x = example(shape);
  // deviceNoise: core's noise is made on the device (only the clean example goes up), else on the host.
  const result = {
    engine,
    model,
    kind,
    threads,
    backend: backend.name,
    ...info,
    layout,
    exampleShape: shape,
    deviceNoise: backend.deviceNoise,
  };
  try {
    if (kind === 'memory') {
      const rssBefore = await peakRssMiB();
      const vargrad = new VarGrad(backend, { numSamples: spec.numSamples, batchSize: spec.batchSize, seed: 1 });
      const start = performance.now();
      await vargrad.attribute(x);
      Object.assign(result, {
        numSamples: spec.numSamples,
        batchSize: spec.batchSize,
        ms: performance.now() - start,
        setupPeakMiB: rssBefore,
        peakMiB: await peakRssMiB(),
      });
    } else {
      result.cases = [];
      for (const n of spec.numSamples) {
        const rows = example(shape, n);
        const targets = new Int32Array(n);
        const batched = new VarGrad(backend, { numSamples: n, batchSize: n, seed: 1 });
        const single = new VarGrad(backend, { numSamples: n, batchSize: 1, seed: 1 });
        const entry = { numSamples: n };
        let map;
        const call = async () => (map = await batched.attribute(x));
        // One call counted after the others: the bytes of a warm call (sessions and graphs already built).
        const countedCall = async () => {
          counter.start();
          await call();
          return counter.stop();
        };
        try {
          if (kind === 'transfers') {
            await call();
            entry.transfers = await countedCall();
          } else {
            entry.vargrad = await time(call, timing);
            if (!spec.skipSingle)
              entry.vargradBatch1 = await time(() => single.attribute(x), { ...timing, maxRepeats: Math.min(3, timing.maxRepeats ?? 3) });
            entry.forward = await time(() => backend.logits(rows), timing);
            entry.gradient = await time(() => backend.gradients(rows, targets), timing);
            entry.samplesCall = await time(samplesCall(backend, x, rows, targets), timing);
            entry.transfers = await countedCall();
          }
          if (spec.mapsDir) entry.mapSha256 = saveMap(spec.mapsDir, engine, model, n, map.data);
        } catch (error) {
          entry.error = String(error?.message ?? error).split('\n')[0]; // one N failing (memory) leaves the others
        }
        result.cases.push(entry);
      }
      result.peakMiB = await peakRssMiB();
    }
  } finally {
    await backend.dispose();
  }
  // The backend's warnings (ONNX: onWarning), e.g. a graph ONNX Runtime would not capture and that ran without capture.
  if (warnings.length > 0) result.warnings = [...new Set(warnings)];
  console.log(`RESULT ${JSON.stringify(result)}`);
}

main().then(
  () => process.exit(0), // onnxruntime-web's wasm threads would keep the process alive
  (error) => {
    console.log(
      `RESULT ${JSON.stringify({
        engine,
        model,
        kind,
        error: String(error?.stack ?? error)
          .split('\n')
          .slice(0, 4)
          .join(' | '),
      })}`,
    );
    process.exit(1);
  },
);
