import { DomainError, type ErrorKind } from '../common/domain-error.js';

/** Rate-limit error codes: Stytch's `too_many_requests`, answered with 429. */
export const RATE_LIMIT_ERRORS = {
  too_many_requests: { kind: 'rate_limited', message: 'Too many requests have been made.' },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type RateLimitErrorCode = keyof typeof RATE_LIMIT_ERRORS;

/** A refusal that says when to come back; the HTTP edge sends `retryAfterSeconds` as `Retry-After`. */
export class RateLimitedError extends DomainError<RateLimitErrorCode> {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number, message: string = RATE_LIMIT_ERRORS.too_many_requests.message) {
    super(RATE_LIMIT_ERRORS.too_many_requests.kind, 'too_many_requests', message);
    this.name = 'RateLimitedError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function rateLimitError(retryAfterSeconds: number, message?: string): RateLimitedError {
  return new RateLimitedError(retryAfterSeconds, message);
}
