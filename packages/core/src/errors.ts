/** What went wrong, as a stable code that callers can branch on. */
export type AttributionErrorCode =
  | 'UNKNOWN_METHOD'
  /** `registerMethod` was given a rule it cannot take (a taken or malformed name, a missing part). */
  | 'INVALID_METHOD'
  | 'INVALID_OPTION'
  | 'INVALID_TARGET'
  | 'INVALID_INPUT'
  | 'NON_FINITE_INPUT'
  | 'INVALID_SHAPE'
  | 'BACKEND_OUTPUT'
  | 'UNSUPPORTED_MODEL'
  /** The model file contradicts itself: a tensor's declared shape and type against the bytes it holds, an external-data range outside its file. */
  | 'INVALID_MODEL'
  /** The model would need more than a budget allows (a folded constant, an activation, its node count or subgraph depth); the message names the budget and its option. */
  | 'MODEL_TOO_LARGE'
  /** The method needs something the backend does not offer (a modified backward pass, layer gradients); the message names both. */
  | 'UNSUPPORTED_METHOD'
  /** The model itself threw while a backend ran it; `cause` holds its error. */
  | 'MODEL_FAILED'
  | 'DISPOSED'
  /** The caller's AbortSignal fired; `cause` holds `signal.reason`. */
  | 'ABORTED';

/**
 * The one error type this library throws for bad input. Its message names the
 * problem (the option, the value, what is allowed) so that it can be fixed
 * without reading the source; its `code` lets a caller branch without parsing.
 */
export class AttributionError extends Error {
  override readonly name: string = 'AttributionError';
  readonly code: AttributionErrorCode;

  /** `cause`: the error this one wraps (a model's own exception, an abort reason). */
  constructor(code: AttributionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message);
    this.code = code;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** A value as a message shows it: a string quoted, so that "8" is not read as the number 8. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'bigint') return `the bigint ${value}n`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length} value${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
  return String(value);
}
