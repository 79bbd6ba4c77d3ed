import { AttributionError } from '@saliency/core';

/**
 * A refusal the command line reports as one line and an exit code: 2 for a
 * bad command line or bad input (unknown flag, bad value, missing or
 * unreadable file, a model that is invalid, unsupported or over a budget),
 * 1 for a failure while working. `cause` keeps the library's error, code
 * included.
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly exitCode: number;

  constructor(message: string, exitCode = 2, options?: { cause?: unknown }) {
    super(message);
    this.exitCode = exitCode;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * The exit code of a library error: 1 where the model failed while running
 * (`MODEL_FAILED`), 2 for every refusal of input — the model file included
 * (`INVALID_MODEL`, `UNSUPPORTED_MODEL`, `MODEL_TOO_LARGE`).
 */
export function exitCodeOf(error: AttributionError): number {
  return error.code === 'MODEL_FAILED' ? 1 : 2;
}

/** A library error as one line of the command line (its message on one line, its code and `cause` kept). */
export function cliErrorOf(error: AttributionError, message: string = error.message): CliError {
  return new CliError(message.replace(/\s*\n\s*/g, ' '), exitCodeOf(error), { cause: error });
}
