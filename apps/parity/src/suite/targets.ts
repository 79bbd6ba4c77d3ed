import type { GradientBackend } from '@saliency/core';
import type { LoadedFixture } from './fixture.js';
import type { DeviceClass } from './tolerance.js';

/** One column of the matrix: a runtime on one device, in one environment. */
export interface ParityTarget {
  /** e.g. `tfjs-webgl`, `ort-node`. */
  readonly id: string;
  readonly runtime: 'TF.js' | 'ONNX Runtime';
  /** e.g. `webgl`, `wasm`, `cpu (native)`. */
  readonly device: string;
  readonly environment: 'node' | 'chromium';
  readonly deviceClass: DeviceClass;
  /** Which of the fixture's models and layouts it runs. */
  readonly model: 'onnx' | 'tfjs';
  /**
   * Opens the fixture's model on this target; the caller disposes it.
   * `probabilityHead` is the backends' `softmax` option (default `'strip'`:
   * a final softmax or sigmoid is left out, as the references do).
   */
  open(fixture: LoadedFixture, probabilityHead?: 'strip' | 'keep'): Promise<GradientBackend>;
  /**
   * The logits of the fixture's unmodified model (its static-batch copy) run
   * by the runtime alone in a plain session on the same device, with none of
   * this project's code in between: when a cell is past tolerance, this tells
   * a runtime's own error from ours (see `runtime-verdict.ts`).
   */
  runtimeLogits?(fixture: LoadedFixture): Promise<Float32Array>;
}

/**
 * A target that cannot run at all in this environment: every one of its
 * cells becomes a gap with this reason.
 */
export interface UnavailableTarget extends Omit<ParityTarget, 'open'> {
  readonly unavailable: string;
}

export type TargetEntry = ParityTarget | UnavailableTarget;

export function isUnavailable(target: TargetEntry): target is UnavailableTarget {
  return 'unavailable' in target;
}
