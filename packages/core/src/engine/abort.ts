import { AttributionError } from '../errors.js';

/**
 * Throws `ABORTED` when the caller's signal has fired, saying how far the run
 * got; the signal's reason is the error's `cause`. Runs check it before any
 * model work and between backend calls, so an abort takes effect after the
 * backend call in progress, never in the middle of one (a backend call holds
 * device memory only while it runs).
 */
export function throwIfAborted(signal: AbortSignal | undefined, progress: { done: number; total: number } | undefined): void {
  if (signal === undefined || !signal.aborted) return;
  const reason: unknown = signal.reason;
  const why = reason instanceof Error ? reason.message : reason === undefined ? 'no reason given' : String(reason);
  const when = progress === undefined ? 'before any model work' : `after ${progress.done} of ${progress.total} model rows`;
  throw new AttributionError('ABORTED', `the run was aborted ${when}: ${why}`, { cause: reason });
}
