import type { CellResult, SuiteResult } from './results.js';
import { ROWS } from './run-suite.js';

/** How a cell reads in the text matrix: the relative error, or why it has none. */
export function cellText(cell: CellResult | undefined): string {
  if (!cell) return '—';
  switch (cell.status) {
    case 'pass':
      return cell.relativeMaxError!.toExponential(1);
    case 'fail':
      return `${cell.relativeMaxError!.toExponential(1)} FAIL`;
    case 'gap':
      return 'GAP';
    case 'error':
      return 'ERROR';
    case 'n/a':
      return 'n/a';
  }
}

/** The rows the result holds cells of, in `ROWS` order (a run may choose some). */
export const rowsOf = (result: SuiteResult) => ROWS.filter((row) => result.cells.some((c) => c.row === row));

/** Every cell that failed or errored: the run's exit status depends on these. */
export const failures = (result: SuiteResult) => result.cells.filter((c) => c.status === 'fail' || c.status === 'error');

/**
 * The matrix as text, one table per fixture: rows are methods, columns are
 * the runtime columns, each cell the max abs error relative to the reference's largest
 * magnitude (tolerance per column in its header); then the gaps and errors
 * with their reasons, each reason once, and the cells past tolerance with
 * what the plain-session check found (see `runtime-verdict.ts`).
 */
export function formatMatrix(result: SuiteResult): string {
  const lines: string[] = [];
  const ids = result.columns.map((t) => t.id);
  const width = Math.max(...ids.map((id) => id.length), 12) + 2;
  const pad = (text: string, w = width) => text.padEnd(w);
  for (const fixture of result.fixtures) {
    lines.push(
      '',
      `${fixture.name}  input [${fixture.inputShape.join(', ')}] ${fixture.layouts.onnx}, ${fixture.numSamples} samples, ${fixture.steps} IG steps`,
    );
    lines.push(pad('', 26) + ids.map((id) => pad(id)).join(''));
    lines.push(pad('  (tolerance)', 26) + result.columns.map((t) => pad(t.tolerance.toExponential(0))).join(''));
    for (const row of rowsOf(result)) {
      const cells = ids.map((id) => result.cells.find((c) => c.fixture === fixture.name && c.row === row && c.column === id));
      lines.push(pad(`  ${row}`, 26) + cells.map((c) => pad(cellText(c))).join(''));
    }
  }
  const stopped = result.cells.filter((c) => c.status === 'gap' || c.status === 'error');
  const reasons = new Map<string, CellResult[]>();
  for (const cell of stopped) {
    const key = `${cell.status === 'gap' ? `GAP (${cell.gapName})` : 'ERROR'} ${cell.column}: ${cell.reason}`;
    reasons.set(key, [...(reasons.get(key) ?? []), cell]);
  }
  for (const cell of result.cells.filter((c) => c.status === 'n/a')) {
    const key = `n/a (every column): ${cell.reason}`;
    reasons.set(key, [...(reasons.get(key) ?? []), cell]);
  }
  if (reasons.size > 0) lines.push('', 'Cells that did not run:');
  for (const [key, cells] of reasons) {
    const where = [...new Set(cells.map((c) => `${c.fixture}/${c.row}`))];
    lines.push(
      `  ${key}`,
      `      in ${where.length > 6 ? `${where.slice(0, 6).join(', ')} and ${where.length - 6} more` : where.join(', ')}`,
    );
  }
  const past = result.cells.filter((c) => c.status === 'fail');
  if (past.length > 0) lines.push('', 'Cells past tolerance:');
  for (const cell of past)
    lines.push(
      `  FAIL ${cell.column} ${cell.fixture}/${cell.row} ${cell.relativeMaxError!.toExponential(2)}${cell.reason ? `: ${cell.reason}` : ''}`,
    );
  const count = (status: CellResult['status']) => result.cells.filter((c) => c.status === status).length;
  lines.push(
    '',
    `${result.cells.length} cells: ${count('pass')} within tolerance, ${count('fail')} past it, ${count('gap')} gaps, ${count('error')} errors, ${count('n/a')} not applicable`,
  );
  return lines.join('\n');
}
