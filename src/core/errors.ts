/**
 * Errors that reach the user. Only the CLI turns them into messages and exit codes:
 *  - UsageError: wrong command line (exit 2)
 *  - InputError: an input file or database cannot be used (exit 2), names the file and line
 * Anything else is an internal error (exit 2, with the stack under XTRACE_DEBUG=1).
 */
export class XtraceError extends Error {
  override readonly name: string = 'XtraceError';
}

export class UsageError extends XtraceError {
  override readonly name = 'UsageError';
}

export class InputError extends XtraceError {
  override readonly name = 'InputError';
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

/** Thrown by a parser: the caller adds the file name. */
export class ParseError extends XtraceError {
  override readonly name = 'ParseError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** Ingestion was interrupted by a signal; the file's transaction was rolled back. */
export class InterruptedError extends XtraceError {
  override readonly name = 'InterruptedError';
}
