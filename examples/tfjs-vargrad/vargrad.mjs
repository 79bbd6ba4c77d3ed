// VarGrad and VarGrad × Input on a small TF.js CNN (see line-detector.mjs and README.md), in plain Node.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { VarGrad, explain } from '@saliency/core';
import { createTfjsBackend } from '@saliency/backend-tfjs';
import { SIZE, image, lineDetector } from './line-detector.mjs';

function show(title, map) {
  const max = Math.max(...map.data.map(Math.abs)) || 1;
  const shades = ' .:-=+*#%@';
  console.log(`\n${title} (max |value| ${max.toPrecision(3)}; '@' strongest, '~' negative)`);
  for (let row = 0; row < SIZE; row++) {
    let line = '';
    for (let col = 0; col < SIZE; col++) {
      const v = map.data[row * SIZE + col] / max;
      line += v < -0.05 ? '~ ' : `${shades[Math.min(9, Math.round(Math.abs(v) * 9))]} `;
    }
    console.log(`  ${line}`);
  }
}

await tf.setBackend('wasm');
await tf.ready();
const model = lineDetector();
const backend = createTfjsBackend(model);
const x = image();

const logits = await backend.logits(x);
console.log(`TF.js backend: ${tf.getBackend()}; logits [vertical, horizontal] = [${[...logits.data].map((v) => v.toFixed(2)).join(', ')}]`);

show('input', x);
const vargrad = new VarGrad(backend, { noiseScale: 0.3, numSamples: 64 });
show('VarGrad, target "vertical" (the argmax), σ = 0.3, N = 64', await vargrad.attribute(x, { seed: 0 }));
show('VarGrad × Input, target "vertical"', await explain(backend, 'vargrad_x_input', x, { noiseScale: 0.3, numSamples: 64 }));
show('VarGrad × Input, target "horizontal"', await explain(backend, 'vargrad_x_input', x, { target: 1, noiseScale: 0.3, numSamples: 64 }));

const before = tf.memory().numTensors;
await explain(backend, 'vargrad', x, { numSamples: 64, batchSize: 16 });
console.log(`\ntensors left behind by a 64-sample run: ${tf.memory().numTensors - before}`);
model.dispose();
