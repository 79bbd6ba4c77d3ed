// npm run bench [-- --quick | --full | --profile=gpu] [--models=mlp,cnn1d]
//   [--engines=onnx-node,onnx-wasm] [--threads=2] [--no-torch] [--no-memory]
//   [--budget-ms=3000] [--case-timeout-s=1200] [--torch-device=cuda] [--out=results/cpu-default.json]
//   [--samples=16,64] [--no-single] [--transfers-only]
//
// --transfers-only: for each timed case, only the bytes of one warm VarGrad
// call per N (run-case.mjs kind "transfers"); no times, PyTorch or memory.
//
// Times VarGrad on the fixture models on our engines and on PyTorch (the
// Python reference's loop and a batched run), each case in a fresh child
// process, and sweeps the peak memory over N at a fixed batchSize. Checks
// each engine's maps against another engine's of the same run (src/maps.mjs).
// Prints Markdown tables and writes the raw results and the tables to results/.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MEMORY_BATCH_SIZE, MEMORY_N, PROFILES } from './cases.mjs';
import { checkMaps } from './maps.mjs';
import { caseNotes, gpuTargetsTable, mapsTable, memoryTable, speedTables } from './report.mjs';

const APP = fileURLToPath(new URL('../', import.meta.url));
const TRANSFERS_NOTE =
  'Bytes per call: what one warm VarGrad call (batchSize N) hands to the runtime and reads back, counted at the runtime (src/transfers.mjs): ' +
  'host ↔ device on a GPU engine, JavaScript ↔ runtime on a CPU one; PyTorch on a GPU from its profiler’s memcpy records, on the CPU none (no device). ' +
  'Noise: where core’s noise is made (device: the backend’s `noisyGradientMoments` gets the clean example and the noise’s description; host: N noisy rows are written and handed over). ' +
  'Samples call: the one backend call VarGrad makes for the N samples, made alone (with device noise `noisyGradientMoments`: noise pass, gradient graph, moments, their readback; otherwise `gradientMoments` of N rows from the host); ' +
  'outside it: 1 − samples call ÷ VarGrad call, the share of the call spent on the target’s forward pass, core’s work and the JavaScript between them.';
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';

function parseArgs(argv) {
  const args = { profile: 'default', threads: 2, torch: true, memory: true, budgetMs: 3000, caseTimeoutS: 1200, torchDevice: 'cpu' };
  for (const arg of argv) {
    const [key, value] = arg.replace(/^--/, '').split('=');
    if (key === 'quick' || key === 'full') args.profile = key;
    else if (key === 'profile') args.profile = value;
    else if (key === 'models' || key === 'engines') args[key] = value.split(',');
    else if (key === 'threads') args.threads = Number(value);
    else if (key === 'budget-ms') args.budgetMs = Number(value);
    else if (key === 'case-timeout-s') args.caseTimeoutS = Number(value);
    else if (key === 'no-torch') args.torch = false;
    else if (key === 'no-memory') args.memory = false;
    else if (key === 'out') args.out = value;
    else if (key === 'torch-device') args.torchDevice = value;
    else if (key === 'samples') args.samples = value.split(',').map(Number);
    else if (key === 'no-single') args.single = false;
    else if (key === 'transfers-only') Object.assign(args, { transfersOnly: true, torch: false, memory: false });
    else throw new Error(`unknown option ${arg}; see the comment at the top of src/run-bench.mjs`);
  }
  if (!(args.profile in PROFILES)) throw new Error(`unknown profile "${args.profile}"; one of ${Object.keys(PROFILES).join(', ')}`);
  if (!Number.isInteger(args.threads) || args.threads < 1) throw new Error(`--threads must be a positive integer, got ${args.threads}`);
  if (args.samples?.some((n) => !Number.isInteger(n) || n < 2))
    throw new Error(`--samples must be integers of at least 2, got ${args.samples.join(',')}`);
  return args;
}

/** Runs one case in a child process and returns its RESULT object (or one with `error`). */
function runChild(command, argv, label, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd: APP, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) return resolve(JSON.parse(line.slice('RESULT '.length)));
      if (timedOut) return resolve({ ...label, error: `stopped after the case time limit (${timeoutMs / 1000} s, --case-timeout-s)` });
      resolve({ ...label, error: `exit ${code}: ${(err || out).trim().split('\n').slice(-3).join(' | ')}` });
    });
  });
}

function torchAvailable(device) {
  const check = device === 'cpu' ? '' : '; assert torch.cuda.is_available(), "no CUDA"';
  const probe = spawnSync(PYTHON, ['-c', `import torch, torchvision${check}; print(torch.__version__)`], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : null;
}

function machine() {
  const cpus = os.cpus();
  const lscpu = spawnSync('lscpu', [], { encoding: 'utf8' }).stdout ?? '';
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    avx512: /avx512f/.test(lscpu),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    load: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const profile = PROFILES[args.profile];
  const pick = (table) =>
    Object.entries(table)
      .filter(([model]) => !args.models || args.models.includes(model))
      .map(([model, engines]) => [model, engines.filter((e) => !args.engines || args.engines.includes(e))]);
  const torch = args.torch ? torchAvailable(args.torchDevice) : null;
  const info = {
    profile: args.profile,
    threads: args.threads,
    torchDevice: args.torchDevice,
    startedAt: new Date().toISOString(),
    machine: machine(),
    torch,
  };
  console.log(
    `VarGrad benchmark, profile ${args.profile}, ${args.threads} threads, on ${info.machine.cpu} (${info.machine.cores} cores), load ${info.machine.load.join(' ')}`,
  );
  if (!torch)
    console.log(
      args.torch
        ? `PyTorch${args.torchDevice === 'cpu' ? '' : ` with ${args.torchDevice}`} is not installed for ${PYTHON} (python3-torch, python3-torchvision): running ours alone.`
        : 'PyTorch left out (--no-torch).',
    );

  const timing = { budgetMs: args.budgetMs };
  const timedN = args.samples ?? profile.timedN;
  // --no-single: leaves out VarGrad at batchSize 1 (N calls; long where a call is slow, as on SwiftShader)
  const single = args.single === false ? { skipSingle: true } : {};
  const results = [];
  const out = args.out ?? `results/cpu-${args.profile}.json`;
  mkdirSync(new URL('.', new URL(out, `file://${APP}`)), { recursive: true });
  // Written after every case too, so that a run cut short keeps what it measured.
  const save = () => {
    const markdown = [
      `### Speed (median; ${args.threads} threads; profile ${args.profile})`,
      speedTables(results),
      TRANSFERS_NOTE,
      caseNotes(results),
      mapsTable(results),
      ...(args.profile === 'gpu' ? [gpuTargetsTable(results)] : []),
      '### Peak memory',
      memoryTable(results),
    ]
      .filter((part) => part !== '')
      .join('\n\n');
    writeFileSync(`${APP}${out}`, `${JSON.stringify({ ...info, results }, null, 1)}\n`);
    writeFileSync(`${APP}${out.replace(/\.json$/, '.md')}`, `${markdown}\n`);
    return markdown;
  };
  // Each case's maps, for checking them against each other's (maps.mjs); removed at the end.
  const mapsDir = mkdtempSync(join(os.tmpdir(), 'saliency-bench-maps-'));
  const run = async (label, command, argv) => {
    const started = performance.now();
    const result = await runChild(command, argv, label, args.caseTimeoutS * 1000);
    checkMaps(mapsDir, result, results);
    console.log(
      `  ${label.kind} ${label.model} ${label.engine}${label.numSamples ? ` N=${label.numSamples}` : ''}: ${result.error ? `FAILED ${result.error}` : 'done'} (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
    for (const warning of result.warnings ?? []) console.log(`    warning: ${warning}`);
    results.push(result);
    save();
  };
  const node = (spec) => run(spec, process.execPath, ['src/run-case.mjs', JSON.stringify({ ...spec, mapsDir })]);
  const python = (spec) =>
    run({ engine: 'pytorch', ...spec }, PYTHON, ['src/torch/vargrad_torch.py', JSON.stringify({ ...spec, device: args.torchDevice })]);

  try {
    for (const [model, engines] of pick(profile.timed)) {
      if (torch)
        await python({ model, kind: 'time', numSamples: timedN, threads: args.threads, timing: { budget_s: args.budgetMs / 1000 } });
      const kind = args.transfersOnly ? 'transfers' : 'time';
      for (const engine of engines) await node({ engine, model, kind, numSamples: timedN, threads: args.threads, timing, ...single });
    }
    if (args.memory) {
      for (const [model, engines] of pick(profile.memory)) {
        for (const n of MEMORY_N) {
          if (torch) await python({ model, kind: 'memory', numSamples: n, batchSize: MEMORY_BATCH_SIZE, threads: args.threads });
          for (const engine of engines)
            await node({ engine, model, kind: 'memory', numSamples: n, batchSize: MEMORY_BATCH_SIZE, threads: args.threads });
        }
      }
    }
  } finally {
    rmSync(mapsDir, { recursive: true, force: true });
  }
  info.finishedAt = new Date().toISOString();
  info.loadAtEnd = os.loadavg().map((l) => Number(l.toFixed(2)));
  const markdown = save();
  console.log(`\n${markdown}\n`);
  console.log(`wrote ${out} and ${out.replace(/\.json$/, '.md')}; load average at the end ${info.loadAtEnd.join(' ')}`);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
