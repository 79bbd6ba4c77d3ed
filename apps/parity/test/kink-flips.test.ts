import { describe, expect, it } from 'vitest';
import { KINK_FLIP_GAP, kinkFlipVerdict } from '../src/suite/kink-flips.js';
import type { CellResult } from '../src/suite/results.js';

const cell = (overrides: Partial<CellResult>): CellResult => ({
  fixture: 'image_model',
  row: 'integrated_gradients',
  column: 'onnx-webgl@chromium',
  status: 'fail',
  tolerance: 1e-3,
  relativeMaxError: 2.98e-3,
  cosine: 0.9999994,
  ...overrides,
});

describe('kinkFlipVerdict', () => {
  it('names the recorded flip as a gap, with the measured error and the evidence', () => {
    const verdict = kinkFlipVerdict(cell({}));
    expect(verdict.status).toBe('gap');
    expect(verdict.gapName).toBe(KINK_FLIP_GAP);
    expect(verdict.reason).toMatch(/^relative error 2\.98e-3, cosine 0\.9999994: .*example 1, k = 10/);
  });

  it('keeps a failure that is larger than the measured flip, or whose map lost its shape', () => {
    expect(kinkFlipVerdict(cell({ relativeMaxError: 2e-2 })).status).toBe('fail');
    expect(kinkFlipVerdict(cell({ cosine: 0.999 })).status).toBe('fail');
  });

  it('keeps failures of any other cell, and leaves passes alone', () => {
    expect(kinkFlipVerdict(cell({ column: 'onnx-webgpu@chromium' })).status).toBe('fail');
    expect(kinkFlipVerdict(cell({ row: 'vargrad' })).status).toBe('fail');
    expect(kinkFlipVerdict(cell({ fixture: 'cnn_bn' })).status).toBe('fail');
    expect(kinkFlipVerdict(cell({ status: 'pass', relativeMaxError: 1e-7 })).status).toBe('pass');
  });
});
