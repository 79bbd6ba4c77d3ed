import type { SuiteResult } from '../suite/results.js';
import { runSuite, type SuiteOptions } from '../suite/run-suite.js';
import { loadFixtures } from './fixture-files.js';
import { nodeColumns } from './node-columns.js';

/** The suite on every column that runs in this Node process. */
export async function runNodeSuite(names: readonly string[], options: SuiteOptions & { webgpu?: boolean } = {}): Promise<SuiteResult> {
  const fixtures = await loadFixtures(names);
  const columns = await nodeColumns({ webgpu: options.webgpu ?? true });
  return runSuite(fixtures, columns, options);
}
