/** Types of gradient-table.mjs for the test that keeps README.md's table current. */
export interface OurGradients {
  readonly ruleKernels: readonly string[];
  readonly suppliedKernels: readonly string[];
  readonly discardedKernels: readonly string[];
}
export interface GradientRow {
  readonly category: string;
  readonly name: string;
  readonly kernels: string[];
  readonly cells: string[];
}
export const BACKENDS: readonly string[];
export const START: string;
export const END: string;
export function gradientRows(tf: unknown, ours: OurGradients): GradientRow[];
export function gradientTable(tf: unknown, ours: OurGradients): string;
export interface LayerRow {
  readonly name: string;
  readonly kernels: string[];
  readonly cells: string[];
  readonly note: string;
}
export const LAYER_START: string;
export const LAYER_END: string;
export function replaceTable(readme: string, table: string, start?: string, end?: string): string;
/** `tfl`: tfjs-layers (or @tensorflow/tfjs) on the same tfjs-core as `tf`; profiles on tfjs-cpu. */
export function layerRows(tf: unknown, tfl: unknown, ours: OurGradients): Promise<LayerRow[]>;
export function layerTable(tf: unknown, tfl: unknown, ours: OurGradients): Promise<string>;
