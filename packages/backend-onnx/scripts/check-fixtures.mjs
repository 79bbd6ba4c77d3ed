#!/usr/bin/env node
// Runs each test/fixtures/models/<name>.onnx (made by make-fixtures.py) with
// onnxruntime-node in float32 on the batch of test/fixtures/reference/<name>.json,
// and compares the logits with the float64 PyTorch reference: prints the
// largest relative error (max |ort − ref| / max |ref|) and whether ORT's argmax
// equals the reference targets. Also runs the first example alone (batch 1),
// which checks the dynamic batch axis. Exits with 1 when a model fails to load
// or an error is over the tolerance (default 1e-4, or the first argument).
//
//   node packages/backend-onnx/scripts/check-fixtures.mjs [tolerance]
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { maxRelativeError } from '@saliency/dev-support/metrics';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');
const tolerance = Number(process.argv[2] ?? 1e-4);
const manifestPath = join(fixtures, 'models', 'manifest.json');
if (!existsSync(manifestPath)) {
  console.error(`${manifestPath} is missing: run make-fixtures.py first`);
  process.exit(1);
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));

function argmaxRows(values, rows) {
  const cols = values.length / rows;
  const out = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c] > values[r * cols + best]) best = c;
    out.push(best);
  }
  return out;
}

let failed = false;
for (const name of Object.keys(manifest.models)) {
  const ref = JSON.parse(readFileSync(join(fixtures, 'reference', `${name}.json`), 'utf8'));
  try {
    const session = await ort.InferenceSession.create(join(fixtures, 'models', `${name}.onnx`));
    const [batch, ...example] = ref.inputShape;
    const input = Float32Array.from(ref.input);
    const t0 = performance.now();
    const { logits } = await session.run({ input: new ort.Tensor('float32', input, ref.inputShape) });
    const ms = performance.now() - t0;
    const error = maxRelativeError(logits.data, ref.logits);
    const targets = argmaxRows(logits.data, batch);
    const sameTargets = targets.every((t, i) => t === ref.targets[i]);

    const exampleSize = input.length / batch;
    const classes = ref.logits.length / batch;
    const single = await session.run({
      input: new ort.Tensor('float32', input.subarray(0, exampleSize), [1, ...example]),
    });
    const errorSingle = maxRelativeError(single.logits.data, ref.logits.slice(0, classes));

    const ok = error <= tolerance && errorSingle <= tolerance && sameTargets;
    failed ||= !ok;
    console.log(
      `${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(20)} logits max rel error ${error.toExponential(2)}` +
        ` (batch 1: ${errorSingle.toExponential(2)}), targets ${sameTargets ? 'equal' : `differ: ${targets}`}` +
        `, run ${ms.toFixed(1)} ms`,
    );
    await session.release();
  } catch (error) {
    failed = true;
    console.log(`FAIL ${name.padEnd(20)} ${error.message}`);
  }
}
process.exit(failed ? 1 : 0);
