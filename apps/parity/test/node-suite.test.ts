import { describe, expect, it } from 'vitest';
import { formatMatrix, failures } from '../src/suite/matrix.js';
import { METHODS } from '../src/suite/methods.js';
import { runNodeSuite } from '../src/node/run-node-suite.js';

/**
 * The Node part of the parity run on the smallest fixture (mlp): every method
 * on TF.js cpu and wasm, onnxruntime-node and onnxruntime-web's wasm EP
 * against PyTorch's float64 autograd, within 1e-5 of the reference's scale.
 */
describe('the Node part on the mlp fixture', () => {
  it('puts every method of every Node column within tolerance', async () => {
    const result = await runNodeSuite(['mlp'], { webgpu: false });
    const ids = result.columns.map((t) => t.id);
    expect(ids).toEqual(['tfjs-cpu@node', 'tfjs-wasm@node', 'tfjs-webgpu@node', 'onnx-node@node', 'onnx-wasm@node']);
    const ran = result.cells.filter((c) => c.column !== 'tfjs-webgpu@node');
    expect(ran).toHaveLength(4 * (METHODS.length + 1));
    expect(failures(result), formatMatrix(result)).toEqual([]);
    for (const cell of ran) {
      expect(cell.status, `${cell.column} ${cell.row}`).toBe('pass');
      expect(cell.relativeMaxError!).toBeLessThanOrEqual(1e-5);
      expect(cell.cosine!).toBeGreaterThan(1 - 1e-9);
    }
    // webgpu left out: a named gap on every row, never a silent skip
    const webgpu = result.cells.filter((c) => c.column === 'tfjs-webgpu@node');
    expect(webgpu).toHaveLength(METHODS.length + 1);
    expect(webgpu.every((c) => c.status === 'gap' && /Chromium run covers/.test(c.reason ?? ''))).toBe(true);
  });
});
