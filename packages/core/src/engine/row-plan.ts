/**
 * One backend call: `groups` consecutive examples starting at `firstExample`,
 * each contributing rows `firstRow .. firstRow + groupSize − 1` of its own.
 */
export interface RowCall {
  readonly firstExample: number;
  readonly groups: number;
  readonly firstRow: number;
  readonly groupSize: number;
}

/**
 * Splits `examples × rowsPerExample` model rows into backend calls of at
 * most `batchSize` rows in which every example has the same number of rows,
 * so a backend can reduce them as a `[groups, groupSize, ...]` block: whole
 * examples per call when they fit, otherwise runs of one example's rows.
 */
export function planRowCalls(examples: number, rowsPerExample: number, batchSize: number): RowCall[] {
  const calls: RowCall[] = [];
  if (rowsPerExample <= batchSize) {
    const perCall = Math.floor(batchSize / rowsPerExample);
    for (let first = 0; first < examples; first += perCall) {
      calls.push({ firstExample: first, groups: Math.min(perCall, examples - first), firstRow: 0, groupSize: rowsPerExample });
    }
    return calls;
  }
  for (let example = 0; example < examples; example++) {
    for (let row = 0; row < rowsPerExample; row += batchSize) {
      calls.push({ firstExample: example, groups: 1, firstRow: row, groupSize: Math.min(batchSize, rowsPerExample - row) });
    }
  }
  return calls;
}

/** The example of each row of a call: `groups` examples from `firstExample`, `groupSize` consecutive rows each. */
export function rowExamples(firstExample: number, groups: number, groupSize: number): Int32Array {
  const examples = new Int32Array(groups * groupSize);
  for (let r = 0; r < examples.length; r++) examples[r] = firstExample + Math.floor(r / groupSize);
  return examples;
}
