import { errorFactory, type ErrorKind } from './domain-error.js';

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
  // A Stytch operation of the contract that this version does not answer yet (docs/compatibility.md lists them).
  not_implemented: { kind: 'unimplemented', message: 'This operation is not implemented by this Understudy version.' },
  // An expiry in minutes out of its range: impersonation tokens (1 to 5), magic links and invitations (5 to 10080).
  invalid_expiration: { kind: 'invalid_argument', message: 'The expiration minutes are out of range.' },
  invalid_search_query: { kind: 'invalid_argument', message: 'The search query is invalid.' },
  organization_search_missing_filter_name: { kind: 'invalid_argument', message: 'Each operand needs a filter_name.' },
  organization_search_filter_name_must_be_string: { kind: 'invalid_argument', message: 'filter_name must be a string.' },
  organization_search_filter_name_not_recognized: { kind: 'invalid_argument', message: 'filter_name is not a known organization filter.' },
  organization_search_missing_filter_value: { kind: 'invalid_argument', message: 'Each operand needs a filter_value.' },
  organization_search_expected_array_of_strings: { kind: 'invalid_argument', message: 'This filter takes a non-empty list of strings.' },
  organization_search_expected_string: { kind: 'invalid_argument', message: 'This filter takes a non-empty string.' },
  member_search_missing_filter_name: { kind: 'invalid_argument', message: 'Each operand needs a filter_name.' },
  member_search_filter_name_must_be_string: { kind: 'invalid_argument', message: 'filter_name must be a string.' },
  member_search_filter_name_not_recognized: { kind: 'invalid_argument', message: 'filter_name is not a known member filter.' },
  member_search_missing_filter_value: { kind: 'invalid_argument', message: 'Each operand needs a filter_value.' },
  member_search_expected_array_of_strings: { kind: 'invalid_argument', message: 'This filter takes a non-empty list of strings.' },
  member_search_expected_string: { kind: 'invalid_argument', message: 'This filter takes a non-empty string.' },
  member_search_expected_boolean: { kind: 'invalid_argument', message: 'This filter takes a boolean.' },
  search_invalid_status_filter: { kind: 'invalid_argument', message: 'statuses accepts only active, invited, pending and deleted.' },
  invalid_cursor: { kind: 'invalid_argument', message: 'The cursor is invalid.' },
  invalid_limit: { kind: 'invalid_argument', message: 'limit must be an integer from 1 to 1000.' },
  // Stytch's 503 (api-reference/b2b/api/errors/503): the database did not answer; the client may retry.
  server_unavailable: { kind: 'unavailable', message: 'The service is temporarily unavailable. Please retry the request.' },
  internal_server_error: {
    kind: 'internal',
    message: 'Oops, something seems to have gone wrong. Please report it with the request_id.',
  },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type SharedErrorCode = keyof typeof SHARED_ERRORS;

export const sharedError = errorFactory(SHARED_ERRORS);
