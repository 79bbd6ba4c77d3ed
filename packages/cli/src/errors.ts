import type { AttributionError } from '@saliency/core';
import { EXIT, exitCodeOf } from './exit-codes.js';

/**
 * A refusal the command line reports as one line and an exit code
 * (`exit-codes.ts`: 2 usage or input, 3 model or runtime). `cause` keeps the
 * library's error, code included.
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT.usage, options?: { cause?: unknown }) {
    super(message);
    this.exitCode = exitCode;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** A library error as one line of the command line (its message on one line, the exit code of its kind, `cause` kept). */
export function cliErrorOf(error: AttributionError, message: string = error.message): CliError {
  return new CliError(message.replace(/\s*\n\s*/g, ' '), exitCodeOf(error.code), { cause: error });
}

/** Whether a library error is about the tensor `--layer` names (its message quotes the name): answered as `--layer: …`. */
export function namesLayer(error: AttributionError, layer: string | undefined): boolean {
  return layer !== undefined && error.message.includes(`"${layer}"`);
}
