import type { GradientBackend, RuntimeId } from '@saliency/core';
import type { LoadedFixture } from './fixture.js';
import type { DeviceClass } from './tolerance.js';

export type Environment = 'node' | 'chromium';

/** The runtimes of the Chromium run, in the report's order (see browser/browser-columns.ts). */
export const CHROMIUM_RUNTIMES: readonly RuntimeId[] = [
  'tfjs-cpu',
  'tfjs-wasm',
  'tfjs-webgl',
  'tfjs-webgpu',
  'onnx-wasm',
  'onnx-webgl',
  'onnx-webgpu',
];

/** A column's id: its runtime id and environment, e.g. `onnx-wasm@node`, `tfjs-webgl@chromium`. */
export function columnId(runtime: RuntimeId, environment: Environment): string {
  return `${runtime}@${environment}`;
}

/** One column of the matrix: a runtime (on its device) in one environment. */
export interface ParityColumn {
  /** `columnId(runtime, environment)`. */
  readonly id: string;
  /** The runtime id (core's `RUNTIME_IDS`), which the backend it opens must give as its `name`. */
  readonly runtime: RuntimeId;
  readonly library: 'TF.js' | 'ONNX Runtime';
  /** e.g. `webgl`, `wasm`, `cpu (native)`. */
  readonly device: string;
  readonly environment: Environment;
  readonly deviceClass: DeviceClass;
  /** Which of the fixture's models and layouts it runs. */
  readonly model: 'onnx' | 'tfjs';
  /**
   * Opens the fixture's model in this column; the caller disposes it.
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
 * A column that cannot run at all in this environment: every one of its
 * cells becomes a gap with this reason.
 */
export interface UnavailableColumn extends Omit<ParityColumn, 'open'> {
  readonly unavailable: string;
}

export type ColumnEntry = ParityColumn | UnavailableColumn;

export function isUnavailable(column: ColumnEntry): column is UnavailableColumn {
  return 'unavailable' in column;
}
