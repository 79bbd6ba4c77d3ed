/**
 * A refusal the command line reports as one line and an exit code: 2 for a
 * bad command line (unknown flag, bad value, missing or unreadable file),
 * 1 for a failure while working.
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
