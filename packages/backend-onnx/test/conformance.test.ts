import { backendConformance } from '@saliency/dev-support/backend-conformance';
import { hostTensor } from '@saliency/core';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { createOnnxBackend, type OnnxRuntimeModule } from '../src/index.js';
import { uniformValues } from './helpers/check-gradient.js';
import { countingOrt } from './helpers/counting-ort.js';
import { mlpFixture } from './helpers/mlp-model.js';

// The tests every GradientBackend passes, on both ONNX Runtimes that run in Node.
const RUNTIMES: Array<[string, OnnxRuntimeModule, object]> = [
  ['onnxruntime-node', ortNode as unknown as OnnxRuntimeModule, {}],
  ['onnxruntime-web (wasm)', ortWeb as unknown as OnnxRuntimeModule, { executionProviders: ['wasm'] }],
];

for (const [label, ort, sessionOptions] of RUNTIMES) {
  backendConformance(`OnnxBackend on ${label}`, () => {
    const { bytes, reference } = mlpFixture();
    const counting = countingOrt(ort);
    return {
      create: () => createOnnxBackend(counting.module, bytes, { sessionOptions }),
      input: hostTensor(Float32Array.from(uniformValues(3 * 6, 5, -1.5, 1.5)), [3, 6]),
      reference,
      // Sessions created and not yet released.
      resources: counting.open,
    };
  });
}
