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
export function replaceTable(readme: string, table: string): string;
