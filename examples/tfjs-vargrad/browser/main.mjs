// The same example in a browser, on TF.js's WebGL backend where there is one.
import * as tf from '@tensorflow/tfjs';
import { VarGrad } from '@saliency/core';
import { createTfjsBackend } from '@saliency/backend-tfjs';
import { SIZE, image, lineDetector } from '../line-detector.mjs';

/** Draws a map scaled to its largest magnitude, in greys. */
function draw(canvasId, map) {
  const context = document.getElementById(canvasId).getContext('2d');
  const pixels = context.createImageData(SIZE, SIZE);
  const max = Math.max(...map.data.map(Math.abs)) || 1;
  map.data.forEach((v, i) => {
    const level = Math.round((255 * Math.abs(v)) / max);
    pixels.data.set([level, level, level, 255], 4 * i);
  });
  context.putImageData(pixels, 0, 0);
}

await tf.ready();
document.getElementById('backend').textContent = tf.getBackend();
const x = image();
const started = performance.now();
const map = await new VarGrad(createTfjsBackend(lineDetector()), { numSamples: 16 }).attribute(x);
draw('input', x);
draw('vargrad', map);
document.getElementById('status').textContent = `done in ${(performance.now() - started).toFixed(0)} ms`;
