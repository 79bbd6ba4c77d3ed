// The file-level fuzz of model loading: mutated real model files
// (mutations.mjs) through createOnnxBackend and one gradient call, in a child
// process (child.mjs) under a memory cap, a V8 heap cap and an RSS watchdog,
// and a time bound per case. The only acceptable outcomes are a map of the
// input's shape or an AttributionError with a code: a RangeError or TypeError
// escaping, a crash, RSS past the cap or a case past the time bound fail it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./child.mjs', import.meta.url));

/** RSS of a live process in bytes, from /proc (Linux); undefined elsewhere or once it has exited. */
function rssOf(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Runs `cases` cases of `seed` in one child. Resolves to
 * `{ ok, cases, peakRss, tally, failure }`; `failure` says what went wrong
 * and with which case (replay it with the same seed).
 */
export function runFileFuzz({ seed, cases, first = 0, rssCap = 1024 * 2 ** 20, heapCapMiB = 384, caseTimeoutMs = 30_000, log = () => {} }) {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [`--max-old-space-size=${heapCapMiB}`, child, String(seed), String(first), String(cases)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let peakRss = 0;
    let current = 'before the first case';
    let lastProgress = Date.now();
    let failure;
    let tally = {};
    let done = 0;
    const output = [];
    const stop = (why) => {
      failure ??= why;
      proc.kill('SIGKILL');
    };
    const watchdog = setInterval(() => {
      const rss = rssOf(proc.pid);
      if (rss !== undefined) peakRss = Math.max(peakRss, rss);
      if (rss !== undefined && rss > rssCap) stop(`RSS ${Math.round(rss / 2 ** 20)} MiB over the cap of ${Math.round(rssCap / 2 ** 20)} MiB during ${current}`);
      if (Date.now() - lastProgress > caseTimeoutMs) stop(`no progress for ${caseTimeoutMs / 1000} s during ${current}`);
    }, 50);
    let pending = '';
    proc.stdout.on('data', (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        lastProgress = Date.now();
        output.push(line);
        if (output.length > 50) output.shift();
        if (line.startsWith('start ')) current = `case ${line.slice(6)}`;
        else if (line.startsWith('done ')) done++;
        else if (line.startsWith('tally ')) tally = JSON.parse(line.slice(6));
        log(line);
      }
    });
    let stderr = '';
    proc.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    proc.on('close', (code, signal) => {
      clearInterval(watchdog);
      if (failure === undefined && (code !== 0 || done !== cases)) {
        failure = `child exited with ${signal ?? code} after ${done} of ${cases} cases, during ${current}\n${output.slice(-8).join('\n')}\n${stderr}`;
      }
      resolve({ ok: failure === undefined, seed, cases: done, peakRss, tally, failure });
    });
  });
}

/** A soak run from the command line (scripts/fuzz-model-files.mjs): `[cases] [seed]`. */
export async function soak(args) {
  const cases = Number(args[0] ?? 5000);
  const seed = Number(args[1] ?? Date.now() % 2 ** 31);
  if (!Number.isSafeInteger(cases) || cases < 1 || !Number.isSafeInteger(seed)) {
    console.error('usage: node scripts/fuzz-model-files.mjs [cases ≥ 1] [integer seed]');
    return 2;
  }
  console.log(`file fuzz: ${cases} mutated model files from seed ${seed}`);
  const result = await runFileFuzz({ seed, cases, caseTimeoutMs: 60_000, log: (line) => line.startsWith('FAIL') && console.log(line) });
  console.log(`file fuzz: seed ${seed}, ${result.cases} cases, peak RSS ${Math.round(result.peakRss / 2 ** 20)} MiB, outcomes ${JSON.stringify(result.tally)}`);
  if (result.ok) return 0;
  console.log(`FAILED: ${result.failure}`);
  return 1;
}
