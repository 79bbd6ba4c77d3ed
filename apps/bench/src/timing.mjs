// Wall-clock timing of async calls: one warm-up call (it builds graphs,
// sessions and kernels), then repeats until `maxRepeats` or `budgetMs`,
// at least `minRepeats`. The median is reported; the minimum beside it.

export async function time(run, { minRepeats = 1, maxRepeats = 30, budgetMs = 3_000 } = {}) {
  let start = performance.now();
  await run();
  const firstMs = performance.now() - start;
  const times = [];
  const begin = performance.now();
  while (times.length < minRepeats || (times.length < maxRepeats && performance.now() - begin + median(times) < budgetMs)) {
    start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return { medianMs: median(times), minMs: Math.min(...times), repeats: times.length, firstMs };
}

export function median(values) {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Peak resident set size of this process so far, in MiB (VmHWM; maxRSS where /proc is missing). */
export async function peakRssMiB() {
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile('/proc/self/status', 'utf8');
    const kib = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1]);
    if (Number.isFinite(kib)) return kib / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}
