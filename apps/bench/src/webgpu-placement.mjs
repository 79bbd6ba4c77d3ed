// Which nodes of our gradient graphs ONNX Runtime's WebGPU EPs leave to the
// CPU. Both EPs fall back node by node, and each fallback copies its tensors
// off the GPU and back: one such op in a residual network's gradient graph
// (Sum) made its gradient run 13.6× its forward on an H200. This builds each
// fixture model's gradient and moments graphs for the native WebGPU EP
// ('onnxruntime-web/webgpu') and the JSEP one ('onnxruntime-web/all'), runs
// them once under Dawn, and prints the nodes ONNX Runtime's verbose log says
// it placed on the CPU.
//
//   node src/webgpu-placement.mjs [model ...]    (default: every fixture model)
//
// Without a GPU, point Dawn at Chromium's SwiftShader first:
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json XDG_RUNTIME_DIR=/tmp/xdg node src/webgpu-placement.mjs
// Placement does not depend on the adapter, so SwiftShader answers for every GPU.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createOnnxBackend } from '@saliency/backend-onnx';
import { FIXTURE_MODELS } from './cases.mjs';
import { installWebGpu } from './engines/webgpu-node.mjs';

const REFERENCES = `${FIXTURE_MODELS}../reference/`;

/** A fixture model's example shape: the one it was traced at, from its reference file. */
function exampleShape(model) {
  return JSON.parse(readFileSync(`${REFERENCES}${model}.json`, 'utf8')).inputShape.slice(1);
}

const EPS = {
  native: ['onnxruntime-web/webgpu', 'ort-wasm-simd-threaded.asyncify.wasm'],
  jsep: ['onnxruntime-web/all', 'ort-wasm-simd-threaded.jsep.wasm'],
};

/** The child: runs the graphs of `models` on one EP with ONNX Runtime's verbose log on stdout. */
async function runGraphs(ep, models) {
  await installWebGpu();
  const [entry, wasm] = EPS[ep];
  const ort = await import(entry);
  ort.env.wasm.wasmBinary = await readFile(fileURLToPath(import.meta.resolve(`onnxruntime-web/${wasm}`)));
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'verbose';
  for (const model of models) {
    console.log(`MODEL ${model}`);
    const backend = createOnnxBackend(ort, await readFile(`${FIXTURE_MODELS}${model}.onnx`), {
      sessionOptions: { executionProviders: ['webgpu'], logSeverityLevel: 0, logVerbosityLevel: 0 },
    });
    const example = exampleShape(model);
    const rows = (n) => {
      const shape = [n, ...example];
      return { data: new Float32Array(shape.reduce((a, b) => a * b)).map((_, i) => Math.sin(0.37 * i)), shape };
    };
    try {
      await backend.gradients(rows(2), Int32Array.from([0, 1]));
      await backend.gradientMoments(rows(4), Int32Array.from([0, 0, 1, 1]), 2);
    } finally {
      await backend.dispose();
    }
  }
}

/** The CPU-placed nodes per model, read off ONNX Runtime's "Node(s) placed on [...]" lines. */
function cpuNodes(log) {
  const found = new Map();
  let model;
  let onCpu = false;
  for (const line of log.split('\n')) {
    if (line.startsWith('MODEL ')) {
      model = line.slice('MODEL '.length);
      found.set(model, new Set());
    } else if (line.includes('VerifyEachNodeIsAssignedToAnEp')) {
      const placed = /Node\(s\) placed on \[(\w+)\]/.exec(line);
      if (placed) onCpu = placed[1] === 'CPUExecutionProvider';
      else if (onCpu && model) found.get(model).add(line.split('VerifyEachNodeIsAssignedToAnEp]')[1].trim());
    }
  }
  return found;
}

async function main() {
  const [role, ep, ...rest] = process.argv.slice(2);
  if (role === '--child') return runGraphs(ep, rest);
  const models =
    process.argv.slice(2).length > 0
      ? process.argv.slice(2)
      : readdirSync(REFERENCES)
          .filter((f) => f.endsWith('.json'))
          .map((f) => f.slice(0, -5));
  let clean = true;
  for (const ep of Object.keys(EPS)) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', ep, ...models], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    if (child.status !== 0)
      throw new Error(`the ${ep} WebGPU EP run failed: ${(child.stderr || child.stdout).trim().split('\n').slice(-3).join(' | ')}`);
    for (const [model, nodes] of cpuNodes(child.stdout + child.stderr)) {
      console.log(
        `${ep.padEnd(6)} ${model.padEnd(18)} ${nodes.size === 0 ? 'every node on the GPU' : `${nodes.size} on the CPU: ${[...nodes].join(', ')}`}`,
      );
      clean &&= nodes.size === 0;
    }
  }
  process.exitCode = clean ? 0 : 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    console.error(error.message);
    process.exit(2);
  },
);
