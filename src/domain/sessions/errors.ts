import { errorFactory, type ErrorKind } from '../common/domain-error.js';

/** Session error codes: Stytch `error_type` values where Stytch has one (docs/errors.md marks ours), each with its kind. */
export const SESSION_ERRORS = {
  session_not_found: { kind: 'not_found', message: 'Session could not be found.' },
  no_session_arguments: { kind: 'invalid_argument', message: 'Provide session_token or session_jwt.' },
  too_many_session_arguments: { kind: 'invalid_argument', message: 'Provide only one of session_token and session_jwt.' },
  no_session_revoke_arguments: {
    kind: 'invalid_argument',
    message: 'Provide one of member_session_id, session_token, session_jwt or member_id.',
  },
  too_many_session_revoke_arguments: {
    kind: 'invalid_argument',
    message: 'Provide only one of member_session_id, session_token, session_jwt and member_id.',
  },
  invalid_session_duration_minutes: { kind: 'invalid_argument', message: 'session_duration_minutes must be an integer from 5 to 527040.' },
  unable_to_parse_session_jwt: { kind: 'unauthenticated', message: 'The session JWT could not be parsed or its signature could not be verified.' },
  jwt_invalid_issuer: { kind: 'unauthenticated', message: 'The session JWT was issued for another issuer.' },
  jwt_invalid_audience: { kind: 'unauthenticated', message: 'The session JWT was issued for another project.' },
  jwt_invalid_claims: { kind: 'unauthenticated', message: 'The session JWT claims are invalid.' },
  custom_claims_too_large: { kind: 'invalid_argument', message: 'session_custom_claims must be at most 4 KB of JSON.' },
  reserved_claims_in_custom_claims: {
    kind: 'invalid_argument',
    message: 'session_custom_claims may not set the reserved claims iss, sub, aud, exp, nbf, iat, jti or act.',
  },
  stytch_claims_in_custom_claims: {
    kind: 'invalid_argument',
    message: 'session_custom_claims may not set claims under https://stytch.com/.',
  },
  session_not_mutable_impersonated: { kind: 'invalid_argument', message: 'An impersonated session cannot be given other factors.' },
  intermediate_session_not_found: { kind: 'not_found', message: 'Intermediate session could not be found.' },
  invalid_intermediate_session_token_for_organization: {
    kind: 'invalid_argument',
    message: 'The intermediate session token belongs to another member or organization than this authentication.',
  },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>;

export type SessionErrorCode = keyof typeof SESSION_ERRORS;

export const sessionError = errorFactory(SESSION_ERRORS);
