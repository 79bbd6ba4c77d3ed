import type { SuiteResult } from '../suite/results.js';
import { runSuite, type SuiteOptions } from '../suite/run-suite.js';
import { loadFixtures } from './fixture-files.js';
import { nodeTargets } from './node-targets.js';

/** The suite on every target that runs in this Node process. */
export async function runNodeSuite(names: readonly string[], options: SuiteOptions & { webgpu?: boolean } = {}): Promise<SuiteResult> {
  const fixtures = await loadFixtures(names);
  const targets = await nodeTargets({ webgpu: options.webgpu ?? true });
  return runSuite(fixtures, targets, options);
}
