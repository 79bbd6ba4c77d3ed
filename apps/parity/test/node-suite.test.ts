import { describe, expect, it } from 'vitest';
import { formatMatrix, failures } from '../src/suite/matrix.js';
import { LRP_METHODS, METHODS, XAI_METHODS } from '../src/suite/methods.js';
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
    // Grad-CAM has no meaning on an MLP: n/a on every column, with the reason
    const camRows = ['grad_cam', 'grad_cam_plus_plus', 'grad_cam_timeseries'];
    const notApplicable = result.cells.filter((c) => c.status === 'n/a');
    expect(notApplicable).toHaveLength(5 * camRows.length);
    expect(notApplicable.every((c) => camRows.includes(c.row) && /no feature map/.test(c.reason ?? ''))).toBe(true);
    const ran = result.cells.filter((c) => c.column !== 'tfjs-webgpu@node' && c.status !== 'n/a');
    expect(ran).toHaveLength(4 * (METHODS.length + 1 - camRows.length));
    expect(failures(result), formatMatrix(result)).toEqual([]);
    for (const cell of ran) {
      expect(cell.status, `${cell.column} ${cell.row}`).toBe('pass');
      expect(cell.relativeMaxError!).toBeLessThanOrEqual(1e-5);
      expect(cell.cosine!).toBeGreaterThan(1 - 1e-9);
    }
    // webgpu left out: a named gap on every row, never a silent skip
    const webgpu = result.cells.filter((c) => c.column === 'tfjs-webgpu@node' && c.status !== 'n/a');
    expect(webgpu).toHaveLength(METHODS.length + 1 - camRows.length);
    expect(webgpu.every((c) => c.status === 'gap' && /Chromium run covers/.test(c.reason ?? ''))).toBe(true);
  });

  it('runs the modified backward passes and Grad-CAM on a 1-D and an image fixture: ONNX within tolerance, TF.js within it or a named gap', async () => {
    const result = await runNodeSuite(['cnn1d', 'cnn_bn'], { webgpu: false, rows: XAI_METHODS });
    expect(failures(result), formatMatrix(result)).toEqual([]);
    const cell = (fixture: string, row: string, column: string) =>
      result.cells.find((c) => c.fixture === fixture && c.row === row && c.column === column)!;
    const applicable = {
      cnn1d: ['guided_backprop', 'deconvnet', 'grad_cam_timeseries'],
      cnn_bn: ['guided_backprop', 'deconvnet', 'grad_cam', 'grad_cam_plus_plus'],
    };
    for (const [fixture, rows] of Object.entries(applicable)) {
      for (const row of XAI_METHODS) {
        for (const column of ['tfjs-cpu@node', 'tfjs-wasm@node', 'onnx-node@node', 'onnx-wasm@node']) {
          const { status, gapName, relativeMaxError } = cell(fixture, row, column);
          const where = `${column} ${fixture}/${row}`;
          if (!rows.includes(row)) expect(status, where).toBe('n/a');
          else if (column.startsWith('onnx') || !row.startsWith('grad_cam')) {
            expect(status, where).toBe('pass');
            expect(relativeMaxError!, where).toBeLessThanOrEqual(1e-5);
          } else expect(status === 'pass' || gapName === 'no layer attribution', where).toBe(true);
        }
      }
    }
    // only the rows asked for
    expect(new Set(result.cells.map((c) => c.row))).toEqual(new Set(XAI_METHODS));
  });

  it("runs the LRP rows against PyTorch's layer-by-layer LRP: within tolerance, n/a where LRP has no rule", async () => {
    // depthwise_separable's ReLU6s (ONNX Clip) pass relevance; shufflenet's channel split and shuffle have no rule (n/a, not run).
    const result = await runNodeSuite(['resnet_block', 'cnn1d', 'depthwise_separable', 'shufflenet'], { webgpu: false, rows: LRP_METHODS });
    expect(failures(result), formatMatrix(result)).toEqual([]);
    for (const cell of result.cells.filter((c) => c.column !== 'tfjs-webgpu@node')) {
      const where = `${cell.column} ${cell.fixture}/${cell.row}`;
      if (cell.fixture === 'shufflenet') {
        expect(cell.status, where).toBe('n/a');
        expect(cell.reason, where).toMatch(/LRP has no rule for ShuffleUnit/);
      } else if (cell.fixture === 'cnn1d' && cell.row === 'lrpsign_epsilon_0_1') {
        expect(cell.status, where).toBe('n/a');
        expect(cell.reason, where).toMatch(/not float32-stable/);
      } else {
        expect(cell.status, where).toBe('pass');
        expect(cell.relativeMaxError!, where).toBeLessThanOrEqual(1e-5);
      }
    }
  });
});
