// File-level fuzzing in a child process: the fuzz of model loading runs its
// cases (mutated real model files, each loaded and given one gradient call)
// in a child under a V8 heap cap, an RSS watchdog and a time bound per case.
// The child reports with `runCases`; `runChildFuzz` supervises it. The only
// acceptable outcomes of a case are a map or an error with a code: a
// RangeError or TypeError escaping, a crash, RSS past the cap or a case past
// the time bound fail the run.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
 * Runs cases [first, first + cases) of `seed` in one child, `node <script>
 * <seed> <first> <cases>`, whose lines come from `runCases`. Resolves to
 * `{ ok, seed, cases, peakRss, tally, failure }`; `failure` says what went
 * wrong and with which case (replay it with the same seed).
 */
export function runChildFuzz({
  script,
  seed,
  cases,
  first = 0,
  rssCap = 1024 * 2 ** 20,
  heapCapMiB = 384,
  caseTimeoutMs = 30_000,
  log = () => {},
}) {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [`--max-old-space-size=${heapCapMiB}`, script, String(seed), String(first), String(cases)], {
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
      if (rss !== undefined && rss > rssCap)
        stop(`RSS ${Math.round(rss / 2 ** 20)} MiB over the cap of ${Math.round(rssCap / 2 ** 20)} MiB during ${current}`);
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

/** A soak run from the command line: `[cases] [seed]`; returns the exit code. */
export async function soak(script, args, usage) {
  const cases = Number(args[0] ?? 5000);
  const seed = Number(args[1] ?? Date.now() % 2 ** 31);
  if (!Number.isSafeInteger(cases) || cases < 1 || !Number.isSafeInteger(seed)) {
    console.error(`usage: ${usage} [cases ≥ 1] [integer seed]`);
    return 2;
  }
  console.log(`file fuzz: ${cases} mutated model files from seed ${seed}`);
  const result = await runChildFuzz({
    script,
    seed,
    cases,
    caseTimeoutMs: 60_000,
    log: (line) => line.startsWith('FAIL') && console.log(line),
  });
  console.log(
    `file fuzz: seed ${seed}, ${result.cases} cases, peak RSS ${Math.round(result.peakRss / 2 ** 20)} MiB, outcomes ${JSON.stringify(result.tally)}`,
  );
  if (result.ok) return 0;
  console.log(`FAILED: ${result.failure}`);
  return 1;
}

/**
 * The child's side: for each case, prints `start <i> <description>`, runs
 * it, and prints `done <i> <outcome>`, where the outcome is what `run`
 * returns ('map') or the `code` of the error it throws. An error without a
 * code prints `FAIL` with its stack and exits 1 (unless FUZZ_KEEP_GOING=1,
 * to list every failure). Ends with `tally {outcome: count}`.
 */
export async function runCases(seed, first, cases, run) {
  const tally = new Map();
  for (const [offset, item] of cases.entries()) {
    const index = first + offset;
    process.stdout.write(`start ${index} ${item.description}\n`);
    let outcome;
    try {
      outcome = await run(item);
    } catch (error) {
      const code = codeOf(error);
      if (code === undefined) {
        process.stdout.write(`FAIL ${index} seed ${seed} ${item.description}\n${error instanceof Error ? error.stack : String(error)}\n`);
        if (process.env.FUZZ_KEEP_GOING !== '1') process.exit(1);
        outcome = 'FAIL';
      } else {
        outcome = code;
      }
    }
    tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
    process.stdout.write(`done ${index} ${outcome}\n`);
  }
  process.stdout.write(`tally ${JSON.stringify(Object.fromEntries(tally))}\n`);
}

/**
 * The code of a coded error: an `AttributionError`'s, or the one a wrapper
 * holds as `cause`; a `CliError` (one line and an exit code) counts as
 * `exit <n>` unless it wraps a RangeError or TypeError. Undefined: an escape.
 */
function codeOf(error) {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e.name === 'AttributionError' && typeof e.code === 'string') return e.code;
    if (e instanceof RangeError || e instanceof TypeError) return undefined;
  }
  return error instanceof Error && error.name === 'CliError' ? `exit ${error.exitCode}` : undefined;
}
