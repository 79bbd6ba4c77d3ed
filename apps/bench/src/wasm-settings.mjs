// Why onnxruntime-web's wasm EP is slower than onnxruntime-node, setting by
// setting: ResNet-18 forward (our backend's forward graph), [rows, 3, 224,
// 224], each setting in a fresh process.
//   node src/wasm-settings.mjs [rows=4]
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createOnnxBackend } from '@saliency/backend-onnx';
import { FIXTURE_MODELS } from './cases.mjs';
import { time } from './timing.mjs';

const SETTINGS = {
  'onnxruntime-node, 1 thread': { node: true, threads: 1 },
  'onnxruntime-node, 2 threads': { node: true, threads: 2 },
  'onnxruntime-node, 1 thread, graph optimization "basic" (no Conv+ReLU fusion, no NCHWc)': { node: true, threads: 1, level: 'basic' },
  'wasm EP, defaults (numThreads = min(4, ⌈cores/2⌉))': { threads: undefined },
  'wasm EP, numThreads 1': { threads: 1 },
  'wasm EP, numThreads 2': { threads: 2 },
  'wasm EP, numThreads 2, CPU memory arena and memory pattern on': { threads: 2, arena: true },
};

async function measure(setting, rows) {
  const ort = setting.node ? await import('onnxruntime-node') : await import('onnxruntime-web');
  const sessionOptions = setting.node ? { intraOpNumThreads: setting.threads, interOpNumThreads: 1 } : {};
  if (!setting.node && setting.threads !== undefined) ort.env.wasm.numThreads = setting.threads;
  if (setting.level) sessionOptions.graphOptimizationLevel = setting.level;
  if (setting.arena) Object.assign(sessionOptions, { enableCpuMemArena: true, enableMemPattern: true });
  const backend = createOnnxBackend(ort, await readFile(`${FIXTURE_MODELS}resnet18.onnx`), { sessionOptions });
  const x = { data: new Float32Array(rows * 3 * 224 * 224).map((_, i) => Math.sin(i)), shape: [rows, 3, 224, 224] };
  const t = await time(() => backend.logits(x), { minRepeats: 3, maxRepeats: 7, budgetMs: 8000 });
  await backend.dispose();
  return { ...t, numThreads: setting.node ? setting.threads : ort.env.wasm.numThreads };
}

const [first, second] = process.argv.slice(2);
if (first === '--one') {
  const { name, rows } = JSON.parse(second);
  console.log(`RESULT ${JSON.stringify(await measure(SETTINGS[name], rows))}`);
  process.exit(0);
}
const rows = Number(first ?? 4);
console.log(
  `ResNet-18 forward, [${rows}, 3, 224, 224], ${os.cpus()[0]?.model}, ${os.availableParallelism()} cores, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);
console.log('| setting | threads used | median | min |\n|---|---|---|---|');
for (const name of Object.keys(SETTINGS)) {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', JSON.stringify({ name, rows })], {
    encoding: 'utf8',
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  const r = line ? JSON.parse(line.slice(7)) : undefined;
  console.log(
    r
      ? `| ${name} | ${r.numThreads} | ${r.medianMs.toFixed(0)} ms | ${r.minMs.toFixed(0)} ms |`
      : `| ${name} | failed: ${child.stderr.trim().split('\n').at(-1)} | | |`,
  );
}
console.log(
  `\nload at the end ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
