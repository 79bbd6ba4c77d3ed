/** What went wrong, as a stable code that callers can branch on. */
export type AttributionErrorCode =
  | 'UNKNOWN_METHOD'
  | 'INVALID_OPTION'
  | 'INVALID_TARGET'
  | 'INVALID_INPUT'
  | 'NON_FINITE_INPUT'
  | 'INVALID_SHAPE'
  | 'BACKEND_OUTPUT'
  | 'UNSUPPORTED_MODEL'
  | 'DISPOSED';

/**
 * The one error type this library throws for bad input. Its message names the
 * problem (the option, the value, what is allowed) so that it can be fixed
 * without reading the source; its `code` lets a caller branch without parsing.
 */
export class AttributionError extends Error {
  override readonly name: string = 'AttributionError';
  readonly code: AttributionErrorCode;

  constructor(code: AttributionErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
