import type { RuntimeId } from '@saliency/core';
import type { Environment } from './columns.js';
import type { Layouts } from './layout.js';
import type { ParityMethod } from './methods.js';
import type { DeviceClass } from './tolerance.js';

/** Rows of the matrix: the model's logits (a check of the model itself), then every method. */
export type ParityRow = 'logits' | ParityMethod;

/**
 * One cell: a row on one column for one fixture.
 * - `pass`/`fail`: it ran; `fail` is past tolerance.
 * - `gap`: a known limit of the runtime stopped it (`gapName`, `reason`).
 * - `error`: anything else stopped it: a bug until shown otherwise.
 * - `n/a`: the method has no meaning on the fixture's model (Grad-CAM of an
 *   MLP, image Grad-CAM of a series): not run, on any column; `reason` says why.
 */
export interface CellResult {
  readonly fixture: string;
  readonly row: ParityRow;
  readonly column: string;
  readonly status: 'pass' | 'fail' | 'gap' | 'error' | 'n/a';
  readonly tolerance: number;
  readonly relativeMaxError?: number;
  readonly cosine?: number;
  readonly top5Agreement?: number;
  readonly gapName?: string;
  readonly reason?: string;
  readonly ms?: number;
  /** The map in the ONNX layout, for the heatmap methods only. */
  readonly map?: number[];
}

export interface ColumnInfo {
  readonly id: string;
  /** The runtime id, e.g. `onnx-wasm`. */
  readonly runtime: RuntimeId;
  readonly library: 'TF.js' | 'ONNX Runtime';
  readonly device: string;
  readonly environment: Environment;
  readonly deviceClass: DeviceClass;
  readonly tolerance: number;
}

export interface FixtureInfo {
  readonly name: string;
  readonly inputShape: number[];
  readonly layouts: Layouts;
  readonly numSamples: number;
  readonly steps: number;
  /** Where each row's reference comes from. */
  readonly referenceSources: Record<string, string>;
  /** Reference maps (ONNX layout) of the heatmap methods. */
  readonly referenceMaps: Record<string, number[]>;
  /** The input (ONNX layout), drawn under 1-D maps. */
  readonly input?: number[];
}

export interface SuiteResult {
  readonly columns: ColumnInfo[];
  readonly fixtures: FixtureInfo[];
  readonly cells: CellResult[];
  /** Wall time of the run, ms. */
  readonly ms: number;
}
