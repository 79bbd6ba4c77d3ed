// Process memory after a full garbage collection, for the memory tests (leaks, bounded memory).
import v8 from 'node:v8';
import vm from 'node:vm';

// The collector, without starting node with --expose-gc: the flag is set at
// run time and `gc` taken from a fresh context, which then has it.
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc');

/** Live JS heap and resident set size after a full collection, in bytes. */
export function memoryAfterGc() {
  collect();
  collect();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

export const MiB = 1024 * 1024;
