import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkGraphGradient, type GraphCheck } from './helpers/graph-gradient-check.js';
import { FUZZ_REGRESSIONS } from './helpers/fuzz-regressions.js';
import { describeGraph, graphFromJson, randomGraph, type Choices } from './helpers/random-graph.js';

/*
 * Property: for random small graphs of the supported ops (random shapes,
 * attributes, constants; 2–6 nodes), the gradient graph that
 * buildGradientModel emits, run by onnxruntime-node, matches float64 central
 * differences through the ops' own `evaluate`. A fixed seed and 500 cases in
 * CI; `node scripts/fuzz-gradients.mjs` runs more (FUZZ_RUNS, FUZZ_SEED).
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 500);
const SEED = Number(process.env.FUZZ_SEED ?? 20261126);

describe('gradient graphs of random ONNX graphs against finite differences', () => {
  it(`${RUNS} random graphs from seed ${SEED}`, { timeout: Math.max(120_000, RUNS * 400) }, async () => {
    const tally = { passed: 0, skipped: 0, failed: 0 };
    const ops = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.gen(), fc.integer({ min: 2, max: 6 }), async (g, nodeCount) => {
        const choices: Choices = { int: (min, max) => g(fc.integer, { min, max }) };
        const graph = randomGraph(choices, nodeCount);
        let result: GraphCheck;
        try {
          result = await checkGraphGradient(graph);
        } catch (error) {
          result = { kind: 'failed', message: `threw: ${(error as Error).message}` };
        }
        tally[result.kind]++;
        if (result.kind === 'passed') graph.nodes.forEach((n) => ops.set(n.opType, (ops.get(n.opType) ?? 0) + 1));
        if (result.kind === 'failed') throw new Error(`${result.message}\ngraph: ${describeGraph(graph)}`);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    const summary =
      `fuzz: ${RUNS} cases, ${tally.passed} checked, ${tally.skipped} skipped at kinks or overflow, ${tally.failed} failed; ` +
      `ops checked: ${[...ops]
        .sort((a, b) => b[1] - a[1])
        .map(([op, n]) => `${op} ${n}`)
        .join(', ')}`;
    console.log(summary);
    // Most cases must be checked, not skipped, or the property says little.
    expect(tally.passed, summary).toBeGreaterThan(RUNS * 0.6);
  });

  // Empty so far: no run has found a rule bug (see the list's file).
  it.skipIf(FUZZ_REGRESSIONS.length === 0).each(FUZZ_REGRESSIONS)('regression: $name', async ({ graph }) => {
    const result = await checkGraphGradient(graphFromJson(graph));
    expect(result).toEqual({ kind: 'passed' });
  });
});
