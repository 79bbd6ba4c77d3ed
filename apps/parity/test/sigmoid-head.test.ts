import { describe, expect, it } from 'vitest';
import { maxRelativeError } from '@saliency/dev-support/metrics';
import { loadFixtures } from '../src/node/fixture-files.js';
import { nodeColumns } from '../src/node/node-columns.js';
import { runNodeSuite } from '../src/node/run-node-suite.js';
import { viewFor } from '../src/suite/fixture.js';
import { failures, formatMatrix } from '../src/suite/matrix.js';
import { METHODS } from '../src/suite/methods.js';
import { isUnavailable } from '../src/suite/columns.js';

/**
 * A model ending in a Sigmoid on [B, 3] (fixture sigmoid_head): by default
 * every backend differentiates its logits, before the sigmoid, and every
 * method's map is within 1e-5 of PyTorch's float64 autograd of those logits
 * on the CPU targets; with `softmax: 'keep'` the probabilities are
 * differentiated, s(1 − s) times the logit gradient (float64, from the
 * reference's logits), so keeping the sigmoid is one option away.
 */
const TOLERANCE = 1e-5;
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('a sigmoid head on the Node columns', () => {
  it('by default, every method is of the logits before the sigmoid, within 1e-5 of PyTorch', async () => {
    const result = await runNodeSuite(['sigmoid_head'], { webgpu: false });
    // Grad-CAM has no meaning on an MLP: n/a, not run
    const ran = result.cells.filter((c) => c.column !== 'tfjs-webgpu@node' && c.status !== 'n/a');
    expect(ran).toHaveLength(4 * (METHODS.filter((m) => !m.startsWith('grad_cam')).length + 1));
    expect(failures(result), formatMatrix(result)).toEqual([]);
    for (const cell of ran) expect(cell.relativeMaxError!, `${cell.column} ${cell.row}`).toBeLessThanOrEqual(TOLERANCE);
  }, 120_000);

  it("with softmax: 'keep', the probabilities and their gradients s(1 − s) ∂z", async () => {
    const [fixture] = await loadFixtures(['sigmoid_head']);
    const { reference } = fixture!;
    expect(reference.probabilityHead).toBe('sigmoid');
    const [batch = 0, size = 0] = reference.inputShape;
    const classes = reference.logits.length / batch;
    const probabilities = reference.logits.map(sigmoid);
    const expected = reference.gradient.map((g, i) => {
      const row = Math.floor(i / size);
      const s = probabilities[row * classes + reference.targets[row]!]!;
      return g * s * (1 - s);
    });
    const columns = (await nodeColumns({ webgpu: false })).filter((c) => !isUnavailable(c));
    expect(columns.map((c) => c.id)).toEqual(['tfjs-cpu@node', 'tfjs-wasm@node', 'onnx-node@node', 'onnx-wasm@node']);
    for (const column of columns) {
      if (isUnavailable(column)) continue;
      const view = viewFor(fixture!, column.model);
      const backend = await column.open(fixture!, 'keep');
      try {
        const outputs = await backend.logits(view.input);
        const gradients = await backend.gradients(view.input, Int32Array.from(reference.targets));
        expect(maxRelativeError(outputs.data, probabilities), `${column.id} outputs`).toBeLessThanOrEqual(TOLERANCE);
        expect(maxRelativeError(view.toOnnxLayout(gradients), expected), `${column.id} gradients`).toBeLessThanOrEqual(TOLERANCE);
        // Not the logits' gradient: the option changes what is differentiated.
        expect(maxRelativeError(view.toOnnxLayout(gradients), reference.gradient), column.id).toBeGreaterThan(1e-2);
      } finally {
        await backend.dispose?.();
      }
    }
  }, 120_000);
});
