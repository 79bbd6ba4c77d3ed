// The root README's usage, run from the installed tarballs: VarGrad of an
// MNIST digit on ONNX Runtime and on TF.js. Checks that could fail: ONNX
// Runtime's logits match PyTorch's (samples.json), and both backends give
// the same map.
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { VarGrad, explain, hostTensor } from '@saliency/core';
import { createOnnxBackend } from '@saliency/backend-onnx';
import { createTfjsBackend } from '@saliency/backend-tfjs';

function check(condition, message) {
  if (!condition) throw new Error(message);
  console.log(`  ok: ${message}`);
}

const sample = JSON.parse(readFileSync('mnist/model/samples.json', 'utf8')).samples.find((s) => s.file === 'digits/3-0.png');
const png = PNG.sync.read(readFileSync('mnist/digits/3-0.png'));
// x = (p / 255 − 0.1307) / 0.3081, examples/mnist's preprocessing; one channel, so NCHW and NHWC hold the same values.
const pixels = Float32Array.from({ length: 28 * 28 }, (_, i) => (png.data[4 * i] / 255 - 0.1307) / 0.3081);

const onnx = createOnnxBackend(ort, readFileSync('mnist/model/mnist.onnx'));
const xOnnx = hostTensor(pixels, [1, 1, 28, 28]);
const logits = await onnx.logits(xOnnx);
const logitError = Math.max(...sample.logits.map((l, k) => Math.abs(l - logits.data[k])));
check(logitError < 1e-3, `ONNX Runtime's logits match PyTorch's (max |Δ| ${logitError.toExponential(2)})`);

const vargrad = new VarGrad(onnx, { noiseScale: 1.0, numSamples: 16 });
const map = await vargrad.attribute(xOnnx, { target: sample.label });
const max = Math.max(...map.data.map(Math.abs));
check(
  map.shape.join(',') === '1,1,28,28' && map.data.every(Number.isFinite) && max > 0,
  `VarGrad on ONNX Runtime: shape [${map.shape}], finite, max ${max.toExponential(3)}`,
);

const { modelTopology, weightsManifest } = JSON.parse(readFileSync('mnist/model/tfjs/model.json', 'utf8'));
const weightBytes = Buffer.concat(weightsManifest.flatMap((group) => group.paths.map((p) => readFileSync(`mnist/model/tfjs/${p}`))));
const model = await tf.loadLayersModel(
  tf.io.fromMemory({
    modelTopology,
    weightSpecs: weightsManifest.flatMap((group) => group.weights),
    weightData: weightBytes.buffer.slice(weightBytes.byteOffset, weightBytes.byteOffset + weightBytes.byteLength),
  }),
);
const tfjs = createTfjsBackend(model);
const tfjsMap = await new VarGrad(tfjs, { noiseScale: 1.0, numSamples: 16 }).attribute(hostTensor(pixels, [1, 28, 28, 1]), {
  target: sample.label,
});
const mapError = Math.max(...tfjsMap.data.map((v, i) => Math.abs(v - map.data[i])));
check(mapError < 1e-3 * max, `TF.js (${tf.getBackend()}) gives the same VarGrad map (max |Δ| ${mapError.toExponential(2)})`);

const signed = await explain(onnx, 'vargrad_x_sign_mu_neg_0_5', xOnnx, { seed: 0 });
// VarGrad × s_μ(x) with s_μ(x) = −1 where x < μ = −0.5, +1 elsewhere; the same seed (0) as the map above.
const signError = Math.max(...signed.data.map((v, i) => Math.abs(v - map.data[i] * (pixels[i] < -0.5 ? -1 : 1))));
check(
  signError < 1e-6 * max,
  `explain(backend, 'vargrad_x_sign_mu_neg_0_5', ...) is VarGrad × s_μ(x) (max |Δ| ${signError.toExponential(2)})`,
);

tfjs.dispose();
model.dispose();
await onnx.dispose();
