// Measures what one input-gradient run costs against one forward run of the
// same batch, on onnxruntime-node, for a PyTorch-exported model of the test
// fixtures (ResNet-18 by default). A measurement, not a test: it prints the
// ratio measured here, in one run, on this machine.
//
//   node scripts/measure-gradient-cost.mjs [model=resnet18] [rows=16] [size=64] [threads=2]
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { createOnnxBackend } from '../dist/index.js';

const [name = 'resnet18', rowsArg = '16', sizeArg = '64', threadsArg = '2'] = process.argv.slice(2);
const rows = Number(rowsArg);
const size = Number(sizeArg);
const threads = Number(threadsArg);
const bytes = await readFile(new URL(`../test/fixtures/models/${name}.onnx`, import.meta.url));
const backend = createOnnxBackend(ort, bytes, { sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 } });
const x = { data: Float32Array.from({ length: rows * 3 * size * size }, (_, i) => Math.sin(i)), shape: [rows, 3, size, size] };
const targets = new Int32Array(rows);

async function median(run, repeats = 7) {
  await run(); // builds the model and warms the session
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(repeats / 2)];
}

const forward = await median(() => backend.logits(x));
const gradient = await median(() => backend.gradients(x, targets));
const moments = await median(() => backend.gradientMoments(x, targets, rows));
console.log(`${name}, ${rows}×3×${size}×${size}, onnxruntime-node, ${threads} threads (median of 7)`);
console.log(
  `forward ${forward.toFixed(1)} ms; gradient run ${gradient.toFixed(1)} ms (${(gradient / forward).toFixed(2)}× forward); moments run ${moments.toFixed(1)} ms (${(moments / forward).toFixed(2)}× forward)`,
);
await backend.dispose();
