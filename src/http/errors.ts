import { type DomainError, type ErrorKind, isDomainError } from '../domain/common/domain-error.js';
import { sharedError } from '../domain/common/errors.js';
import { UserLockedError } from '../domain/passwords/errors.js';
import { RateLimitedError } from '../domain/rate-limits/errors.js';

/** The one mapping from error kind to HTTP status (style rule 8). */
const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  // Stytch answers duplicates (duplicate_member_email, organization_slug_already_used) with 400, not 409.
  already_exists: 400,
  precondition_failed: 400,
  rate_limited: 429,
  internal: 500,
  unimplemented: 501,
  unavailable: 503,
};

/** Edge codes whose HTTP meaning is more specific than their kind. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  method_not_allowed: 405,
  request_body_too_large: 413,
  unsupported_content_type: 415,
};

export interface StytchErrorBody {
  readonly status_code: number;
  readonly request_id: string;
  readonly error_type: string;
  readonly error_message: string;
  readonly error_url: string;
}

export function statusOf(error: DomainError): number {
  return STATUS_BY_CODE[error.code] ?? STATUS_BY_KIND[error.kind];
}

/**
 * Renders any thrown value as Stytch's error envelope. Anything that is not a
 * DomainError becomes a generic 500: its message may hold internals and never reaches the client.
 */
export function renderError(error: unknown, requestId: string): StytchErrorBody {
  const domainError = isDomainError(error) ? error : sharedError('internal_server_error');
  const status = statusOf(domainError);
  return {
    status_code: status,
    request_id: requestId,
    error_type: domainError.code,
    error_message: domainError.message,
    error_url: `https://stytch.com/docs/api-reference/b2b/api/errors/${status}#${domainError.code}`,
  };
}

/** Headers an error response carries besides the envelope: `Retry-After` (seconds) on a rate-limit refusal. */
export function errorHeaders(error: unknown): Readonly<Record<string, string>> {
  return error instanceof RateLimitedError || error instanceof UserLockedError ? { 'retry-after': String(error.retryAfterSeconds) } : {};
}
