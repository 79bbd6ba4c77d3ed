import type { AttributionErrorCode } from '@saliency/core';

/**
 * The exit codes of `saliency` (the table in README.md lists every failure):
 * 0 done; 1 a bug (an error the command did not expect, with its stack);
 * 2 usage or input: a flag, a value, a file that is missing or unreadable, an
 * image or tensor the model does not take, a class it does not have;
 * 3 model or runtime: a model file that cannot be read or run as it is, or
 * a runtime that failed while computing.
 */
export const EXIT = { bug: 1, usage: 2, model: 3 } as const;

/** Library error codes about the model or its runtime rather than the caller's input. */
const MODEL_CODES: ReadonlySet<string> = new Set([
  'UNSUPPORTED_MODEL',
  'INVALID_MODEL',
  'MODEL_TOO_LARGE',
  'MODEL_FAILED',
  'BACKEND_OUTPUT',
  'DISPOSED',
]);

/** The exit code of a library error, by its code. */
export function exitCodeOf(code: AttributionErrorCode | string): number {
  return MODEL_CODES.has(code) ? EXIT.model : EXIT.usage;
}
