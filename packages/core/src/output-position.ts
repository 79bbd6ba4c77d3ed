import { AttributionError, describeValue } from './errors.js';

/**
 * One position of a sequence or dense output (docs/methods.md, "Output
 * position"): one entry per output axis after the batch axis. A number fixes
 * the axis at that index, a `[start, end)` pair averages the output over that
 * range, and `null` marks the class axis, which the target indexes.
 */
export type OutputPosition = readonly (number | readonly [number, number] | null)[];

/** `[3, :]`, `[:, 0:4, 7]`: the position as the CLI writes it, for messages. */
export function describeOutputPosition(position: OutputPosition): string {
  return `[${position.map((entry) => (entry === null ? ':' : typeof entry === 'number' ? entry : `${entry[0]}:${entry[1]}`)).join(', ')}]`;
}

/**
 * Checks the backend option `outputPosition` of `where` (e.g.
 * `createOnnxBackend`, `createTfjsBackend`): its form always, and against
 * `shape`, the output's shape after the batch axis (null where not known),
 * where given: one entry per axis, each index or range inside its axis. Refuses with `INVALID_OPTION`, naming the axis
 * (counted with the batch axis as 0), its size, the value and what is allowed.
 */
export function checkOutputPosition(position: unknown, where: string, shape?: readonly (number | null)[]): OutputPosition {
  const fail = (message: string) =>
    new AttributionError(
      'INVALID_OPTION',
      `${where}: option outputPosition ${message}; it takes one entry per output axis after the batch axis: ` +
        'an index (integer ≥ 0), a range [start, end) of integers with 0 ≤ start < end, or null for the class axis (exactly one)',
    );
  if (!Array.isArray(position) || position.length === 0) throw fail(`must be a non-empty array, got ${describeValue(position)}`);
  const nulls = position.filter((entry) => entry === null).length;
  if (nulls !== 1) throw fail(`must hold exactly one null (the class axis), got ${nulls} in ${JSON.stringify(position)}`);
  if (shape !== undefined && shape.length !== position.length) {
    throw fail(
      `has ${position.length} entr${position.length === 1 ? 'y' : 'ies'} for an output of ${shape.length} ax${shape.length === 1 ? 'is' : 'es'} ` +
        `after the batch axis (shape [B, ${shape.map((d) => d ?? '?').join(', ')}])`,
    );
  }
  position.forEach((entry: unknown, i) => {
    if (entry === null) return;
    const axis = i + 1;
    const size = shape?.[i] ?? null;
    const sized = size === null ? '' : ` of size ${size}`;
    const isIndex = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
    if (typeof entry === 'number') {
      if (!isIndex(entry)) throw fail(`has ${describeValue(entry)} at axis ${axis}${sized}, not an integer ≥ 0`);
      if (size !== null && entry >= size) throw fail(`has index ${entry} at axis ${axis} of size ${size}: allowed are 0 … ${size - 1}`);
      return;
    }
    if (!Array.isArray(entry) || entry.length !== 2 || !isIndex(entry[0]) || !isIndex(entry[1]) || entry[0] >= entry[1]) {
      throw fail(`has ${JSON.stringify(entry) ?? describeValue(entry)} at axis ${axis}${sized}, neither an index nor a range [start, end)`);
    }
    if (size !== null && entry[1] > size) {
      throw fail(`has range [${entry[0]}, ${entry[1]}) at axis ${axis} of size ${size}: allowed are ranges inside [0, ${size})`);
    }
  });
  // A copy: the caller's array may change after the check.
  return position.map((entry: unknown) => (Array.isArray(entry) ? [entry[0], entry[1]] : entry)) as OutputPosition;
}

/** The hint of the refusal of an output that is not [B, K]. */
export function outputPositionHint(shape: readonly number[]): string {
  const example = shape.slice(1).map((_, i) => (i === shape.length - 2 ? null : 0));
  return (
    `; to explain one position of a sequence or dense output, pass the option outputPosition, e.g. ` +
    `${describeOutputPosition(example)} as ${JSON.stringify(example)} (docs/methods.md, "Output position")`
  );
}
