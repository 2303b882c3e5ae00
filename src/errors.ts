/**
 * The one error family of sgw. Every error that can reach a user carries a stable string code that survives the
 * socket between sgwd and the CLI, and a message that says what to do about it.
 *
 * The kind decides the CLI's exit status and whether the message is the user's to act on:
 *   usage    – the command line itself is wrong (exit 2)
 *   user     – the request is well-formed but cannot be done as asked; the user can fix it (exit 1)
 *   backend  – the object store or archive refused or could not be reached (exit 1)
 *   internal – a defect in sgw (exit 1; the message asks for a report)
 */
export type ErrorKind = 'usage' | 'user' | 'backend' | 'internal';

export const ERROR_CODES = {
  SGW_USAGE: 'usage',
  SGW_INVALID_ARGUMENT: 'usage',
  SGW_INVALID_SIZE: 'usage',
  SGW_DAEMON_UNREACHABLE: 'user',
  SGW_STATE_LOCKED: 'user',
  SGW_NOT_ACTIVATED: 'user',
  SGW_ALREADY_ACTIVATED: 'user',
  SGW_NOT_FOUND: 'user',
  SGW_ALREADY_EXISTS: 'user',
  SGW_PATH_NOT_FOUND: 'user',
  SGW_DISK_UNSUITABLE: 'user',
  SGW_SHUTTING_DOWN: 'user',
  SGW_CATALOG_TOO_NEW: 'user',
  SGW_DAEMON_START_FAILED: 'user',
  SGW_UPLOAD_BUFFER_FULL: 'user',
  SGW_UPLOAD_BUFFER_NOT_CONFIGURED: 'user',
  SGW_CACHE_FULL: 'user',
  SGW_CACHE_NOT_CONFIGURED: 'user',
  SGW_LIMIT_EXCEEDED: 'user',
  SGW_IN_USE: 'user',
  SGW_WRONG_VOLUME_TYPE: 'user',
  SGW_NOT_A_DIRECTORY: 'user',
  SGW_IS_A_DIRECTORY: 'user',
  SGW_NOT_EMPTY: 'user',
  SGW_OUT_OF_RANGE: 'user',
  SGW_BACKEND_UNREACHABLE: 'backend',
  SGW_BACKEND_CREDENTIALS: 'backend',
  SGW_BACKEND_ACCESS_DENIED: 'backend',
  SGW_BUCKET_NOT_FOUND: 'backend',
  SGW_OBJECT_NOT_FOUND: 'backend',
  SGW_OBJECT_ARCHIVED: 'backend',
  SGW_BACKEND_FAILED: 'backend',
  SGW_INTERNAL: 'internal',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface WireError {
  code: ErrorCode;
  kind: ErrorKind;
  message: string;
}

export class SgwError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.kind = ERROR_CODES[code];
    this.name = new.target.name;
  }

  get exitCode(): 1 | 2 {
    return this.kind === 'usage' ? 2 : 1;
  }

  toWire(): WireError {
    return { code: this.code, kind: this.kind, message: this.message };
  }
}

export class UsageError extends SgwError {
  constructor(message: string, code: ErrorCode = 'SGW_USAGE') {
    super(code, message);
  }
}

export class UserError extends SgwError {}

export class BackendError extends SgwError {}

export class BugError extends SgwError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SGW_INTERNAL', `${message} (this is a defect in sgw; please report it)`, options);
  }
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** Rebuilds an error that crossed the socket; an unknown code is treated as a defect, never dropped. */
export function errorFromWire(wire: unknown): SgwError {
  const w = (wire ?? {}) as Partial<WireError>;
  const message = typeof w.message === 'string' ? w.message : 'sgwd sent an unreadable error';
  if (!isErrorCode(w.code)) return new SgwError('SGW_INTERNAL', message);
  return new SgwError(w.code, message);
}

/** Any thrown value as an SgwError: unknown failures become defects with their original message kept. */
export function asSgwError(err: unknown): SgwError {
  if (err instanceof SgwError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BugError(message, { cause: err });
}
