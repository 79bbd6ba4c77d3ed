import type { OutputPosition } from '@saliency/core';
import { CliError } from './errors.js';

const INDEX = /^\d+$/;

/**
 * `--output-position 3,:` as the backends' `outputPosition`
 * (docs/methods.md, "Output position"): one comma-separated entry per output
 * axis after the batch axis, `:` for the class axis (exactly one), an index
 * `i`, or a range `a:b` averaged (a < b). Whether the entries fit the
 * output's shape the backend checks.
 */
export function outputPositionFlag(text: string): OutputPosition {
  const fail = (why: string) =>
    new CliError(
      `--output-position must be one entry per output axis after the batch axis, comma-separated: an index i, a range a:b (a < b, averaged) ` +
        `or : for the class axis (exactly one), e.g. 3,: for [B, T, K] or :,10,20 for [B, 1, H, W]; ${why} in "${text}"`,
    );
  const position = text.split(',').map((part) => {
    const entry = part.trim();
    if (entry === ':') return null;
    if (INDEX.test(entry)) return Number(entry);
    const [start, end, ...rest] = entry.split(':').map((s) => s.trim());
    if (rest.length > 0 || !INDEX.test(start ?? '') || !INDEX.test(end ?? '')) throw fail(`"${entry}" is none of these`);
    if (Number(start) >= Number(end)) throw fail(`the range "${entry}" is empty`);
    return [Number(start), Number(end)] as const;
  });
  const classes = position.filter((entry) => entry === null).length;
  if (classes !== 1) throw fail(`got ${classes} class axes`);
  return position;
}
