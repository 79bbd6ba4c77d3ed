import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadFixtures } from '../src/node/fixture-files.js';
import { agreement } from '../src/suite/metrics.js';
import { onnxColumn } from '../src/suite/onnx-column.js';
import type { CellResult } from '../src/suite/results.js';
import { RUNTIME_WRONG_GAP, runtimeVerdict, type PlainSessionCheck } from '../src/suite/runtime-verdict.js';

const where = { library: 'ONNX Runtime', device: 'webgl' };

/** A hand-made cell past (or within) its 1e-3 tolerance. */
const cell = (row: CellResult['row'], relativeMaxError: number): CellResult => ({
  fixture: 'resnet_block',
  row,
  column: 'onnx-webgl@chromium',
  tolerance: 1e-3,
  status: relativeMaxError <= 1e-3 ? 'pass' : 'fail',
  relativeMaxError,
  cosine: 0.9,
});
const plainWrong: PlainSessionCheck = { ran: true, relativeMaxError: 0.28, cosine: 0.95 };
const plainRight: PlainSessionCheck = { ran: true, relativeMaxError: 4e-7, cosine: 1 };

describe('runtimeVerdict: whose error a cell past tolerance is', () => {
  it('makes a logits cell a gap when the plain session is past tolerance too, naming both errors', () => {
    const verdict = runtimeVerdict(cell('logits', 0.316), plainWrong, where);
    expect(verdict.status).toBe('gap');
    expect(verdict.gapName).toBe(RUNTIME_WRONG_GAP);
    expect(verdict.reason).toMatch(
      /^runtime computes the model itself wrong on ONNX Runtime webgl: plain session relative error 2\.80e-1.*\(ours 3\.16e-1\)$/,
    );
    expect(verdict.relativeMaxError).toBe(0.316); // the measurement stays in the cell
  });

  it('makes a gradient row a gap on the same evidence, saying its forward pass is the wrong computation', () => {
    const verdict = runtimeVerdict(cell('integrated_gradients', 0.5), plainWrong, where);
    expect(verdict.status).toBe('gap');
    expect(verdict.reason).toMatch(/\(ours 5\.00e-1\); this row's forward pass is that same wrong computation/);
  });

  it('keeps a failure when the plain session computes the model right: our code is to blame', () => {
    for (const row of ['logits', 'integrated_gradients'] as const) {
      const verdict = runtimeVerdict(cell(row, 1.11), plainRight, where);
      expect(verdict.status).toBe('fail');
      expect(verdict.gapName).toBeUndefined();
      expect(verdict.reason).toMatch(/plain session .* within tolerance \(relative error 4\.00e-7\)/);
    }
  });

  it("uses the cell's own tolerance for the plain session: just past it is evidence, just within is not", () => {
    expect(runtimeVerdict(cell('logits', 0.3), { ran: true, relativeMaxError: 1.01e-3, cosine: 1 }, where).status).toBe('gap');
    expect(runtimeVerdict(cell('logits', 0.3), { ran: true, relativeMaxError: 1e-3, cosine: 1 }, where).status).toBe('fail');
  });

  it('keeps a failure when there is no evidence: no plain check, or it could not run', () => {
    const failed = cell('gradient', 0.3);
    expect(runtimeVerdict(failed, undefined, where)).toEqual(failed);
    const verdict = runtimeVerdict(failed, { ran: false, error: "input tensor[0] check failed: expected shape '[,3,16,16]'" }, where);
    expect(verdict.status).toBe('fail');
    expect(verdict.reason).toMatch(/could not run the unmodified model .*expected shape/);
  });

  it('leaves a cell within tolerance alone, even when the plain session is wrong', () => {
    const passed = cell('gradient', 1e-6);
    expect(runtimeVerdict(passed, plainWrong, where)).toEqual(passed);
  });
});

describe('the plain-session check on its static-batch model copy', () => {
  it('runs the unmodified mlp in onnxruntime-node with the batch fixed, matching PyTorch', async () => {
    const [fixture] = await loadFixtures(['mlp']);
    const column = onnxColumn(ortNode, 'onnx-node', 'cpu (native)', undefined, 'node');
    const logits = await column.runtimeLogits!(fixture!);
    expect(logits).toHaveLength(fixture!.reference.logits.length);
    expect(agreement(logits, fixture!.reference.logits).relativeMaxError).toBeLessThanOrEqual(1e-5);
    // the copy really has a fixed batch: a batch of 1 is refused
    const session = await ortNode.InferenceSession.create(fixture!.onnxStaticBatch);
    try {
      const one = new ortNode.Tensor('float32', fixture!.input.data.slice(0, 16), [1, 16]);
      await expect(session.run({ input: one })).rejects.toThrow(/dimension|shape/i);
    } finally {
      await session.release();
    }
  });
});
