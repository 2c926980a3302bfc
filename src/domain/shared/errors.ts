import { DomainError, type ErrorKind } from './domain-error.js';

/**
 * Codes that belong to no single capability: the edge (project credentials, routing, request
 * decoding) and search. Kinds are decided here, once per code.
 */
export const SHARED_ERRORS = {
  unauthorized_credentials: { kind: 'unauthenticated', message: 'Unauthorized credentials.' },
  bad_request: { kind: 'invalid_argument', message: 'The request is malformed.' },
  invalid_json: { kind: 'invalid_argument', message: 'The request body is not valid JSON.' },
  unsupported_content_type: { kind: 'invalid_argument', message: 'Request bodies must be JSON (Content-Type: application/json).' },
  request_body_too_large: { kind: 'invalid_argument', message: 'The request body is too large.' },
  route_not_found: { kind: 'not_found', message: 'The requested route does not exist.' },
  method_not_allowed: { kind: 'invalid_argument', message: 'This HTTP method is not allowed on this route.' },
  invalid_search_query: { kind: 'invalid_argument', message: 'The search query is invalid.' },
  invalid_cursor: { kind: 'invalid_argument', message: 'The cursor is invalid.' },
  invalid_limit: { kind: 'invalid_argument', message: 'limit must be an integer from 1 to 1000.' },
  internal_server_error: {
    kind: 'internal',
    message: 'Oops, something seems to have gone wrong. Please report it with the request_id.',
  },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type SharedErrorCode = keyof typeof SHARED_ERRORS;

export function sharedError(code: SharedErrorCode, message?: string): DomainError<SharedErrorCode> {
  const entry = SHARED_ERRORS[code];
  return new DomainError(entry.kind, code, message ?? entry.message);
}
