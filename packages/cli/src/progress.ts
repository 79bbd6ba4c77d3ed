import type { Progress } from '@saliency/core';

/** Where the bar is drawn: a writable stream that may be a terminal. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

/** Formats seconds as `12s` or `3m04s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * One line of the bar: `label [########------------] 8/16 samples  50%  eta 2s`,
 * counted in `unit` (what one model row is: a noisy sample, a path step).
 * The time left is extrapolated from the rate so far, so from the first
 * chunk on: `elapsed · (total − done) / done`; `--` before it.
 */
export function formatProgressLine(label: string, done: number, total: number, elapsedSeconds: number, width = 24, unit = 'rows'): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * width);
  const eta = done > 0 ? (elapsedSeconds * (total - done)) / done : Number.NaN;
  return (
    `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${unit} ` +
    `${String(Math.round(fraction * 100)).padStart(3)}%  eta ${formatDuration(eta)}`
  );
}

/**
 * A progress bar redrawn in place (`\r`) on `stream` when it is a terminal;
 * nothing at all otherwise, so that logs and pipes stay clean. `start` draws
 * it empty before the first chunk, `update` takes core's `onProgress`
 * reports; `finish` ends the line. `unit` names what is counted.
 */
export function createProgressBar(stream: ProgressStream, label: string, now: () => number = () => performance.now(), unit = 'rows') {
  const active = stream.isTTY === true;
  const start = now();
  let drawn = false;
  return {
    active,
    start(total: number): void {
      this.update({ done: 0, total });
    },
    update({ done, total }: Progress): void {
      if (!active) return;
      stream.write(`\r${formatProgressLine(label, done, total, (now() - start) / 1000, 24, unit)}`);
      drawn = true;
    },
    finish(): void {
      if (active && drawn) stream.write('\n');
    },
  };
}
