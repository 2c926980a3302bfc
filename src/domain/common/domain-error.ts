/**
 * The closed set of error kinds (style rule 8). Only `http/errors.ts` turns a kind into an HTTP
 * status; domain code never names a status.
 */
export type ErrorKind =
  | 'invalid_argument'
  | 'unauthenticated'
  | 'permission_denied'
  | 'not_found'
  | 'already_exists'
  | 'precondition_failed'
  | 'rate_limited'
  | 'internal'
  /** The operation exists in Stytch's API but this version does not answer it yet. */
  | 'unimplemented'
  /** A dependency (the database) cannot answer now; retrying later may succeed. */
  | 'unavailable';

/**
 * A failure a client can act on. `code` is the Stytch `error_type` it is rendered as, so a reader
 * can grep from a Stytch error page to the line that throws it (style rule 7).
 */
export class DomainError<Code extends string = string> extends Error {
  readonly kind: ErrorKind;
  readonly code: Code;

  constructor(kind: ErrorKind, code: Code, message: string) {
    super(message);
    this.name = 'DomainError';
    this.kind = kind;
    this.code = code;
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}

/**
 * The `xError(code, message?)` function of a capability's error catalogue: the kind and default
 * message come from the catalogue, so a code cannot be thrown with the wrong kind.
 */
export function errorFactory<Catalogue extends Record<string, { readonly kind: ErrorKind; readonly message: string }>>(
  catalogue: Catalogue,
): <Code extends keyof Catalogue & string>(code: Code, message?: string) => DomainError<Code> {
  return (code, message) => {
    const entry = catalogue[code] as { readonly kind: ErrorKind; readonly message: string };
    return new DomainError(entry.kind, code, message ?? entry.message);
  };
}
