import * as oidc from 'openid-client';
import type { DomainError } from '../../domain/common/domain-error.js';
import { ssoError } from '../../domain/sso/errors.js';
import { IdpRequestError } from '../idp-http.js';

/**
 * How far the code exchange got when openid-client refused it, told by the fetch it was given:
 * `callback` (nothing sent yet: the callback's parameters were refused), `token` (the token
 * endpoint was asked and did not answer 200), `answered` (its answer, the ID token, was refused).
 */
export type ExchangePhase = 'callback' | 'token' | 'answered';

/** The error openid-client (or oauth4webapi beneath it) raised, with its `code` and `cause`. */
interface LibraryError {
  readonly message: string;
  readonly code?: string;
  readonly cause?: unknown;
}

/**
 * Stytch's error for a refused code exchange: the token endpoint's refusal is
 * `oidc_auth_code_error`; of the ID token, a wrong audience, an expiry or a wrong nonce have their
 * own codes, anything else about it (signature, issuer, missing claims, no key) is
 * `id_token_invalid`. The library's message is kept (it names the check, never a token).
 */
export function exchangeRefusal(error: unknown, phase: ExchangePhase): DomainError {
  const idpRequest = findCause(error, IdpRequestError);
  if (error instanceof oidc.ClientError && error.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED') {
    const claim = claimOf(error);
    if (claim === 'nonce') return ssoError('id_token_nonce_invalid');
    if (claim === 'aud' || claim === 'azp') return ssoError('id_token_incorrect_audience');
    return ssoError('id_token_invalid', `The identity provider's ID token was refused: ${innerMessage(error)}.`);
  }
  if (error instanceof oidc.ClientError && error.code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') {
    if (claimOf(error) === 'exp') return ssoError('id_token_expired');
    return ssoError('id_token_invalid', `The identity provider's ID token was refused: ${innerMessage(error)}.`);
  }
  if (phase === 'callback') {
    return ssoError('oidc_invalid_callback_request', `The callback's parameters were refused: ${innerMessage(error as LibraryError)}.`);
  }
  if (phase === 'token') {
    if (isResponseBodyError(error)) return ssoError('oidc_auth_code_error', `The identity provider's token endpoint refused the authorization code (${printable(error.error)}).`);
    if (idpRequest !== undefined) return ssoError('oidc_auth_code_error', `The identity provider's token endpoint could not be asked: ${idpRequest.message}.`);
    return ssoError('oidc_auth_code_error', `The identity provider's token endpoint gave no usable answer: ${innerMessage(error as LibraryError)}.`);
  }
  if (idpRequest !== undefined) return ssoError('id_token_invalid', `The ID token's signature could not be checked: the identity provider's keys (jwks_url) could not be read: ${idpRequest.message}.`);
  // oauth4webapi names a missing claim only in its message (`JWT "nonce" (nonce) claim missing`).
  const missing = /^JWT "(\w+)" \([^)]*\) claim missing/.exec(innerMessage(error as LibraryError))?.[1];
  if (missing === 'sub') return ssoError('oidc_response_subject_missing');
  if (missing === 'nonce') return ssoError('id_token_nonce_invalid');
  return ssoError('id_token_invalid', `The identity provider's ID token was refused: ${innerMessage(error as LibraryError)}.`);
}

/** The userinfo answer's refusal: not reachable, not JSON, or about another subject than the ID token. */
export function userinfoRefusal(error: unknown): DomainError {
  const idpRequest = findCause(error, IdpRequestError);
  if (idpRequest !== undefined) return ssoError('oidc_invalid_userinfo', `The identity provider's userinfo endpoint could not be asked: ${idpRequest.message}.`);
  if (error instanceof oidc.ClientError && error.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
    return ssoError('oidc_invalid_userinfo', "The userinfo answer is about another subject (sub) than the ID token's.");
  }
  if (isResponseBodyError(error)) return ssoError('oidc_invalid_userinfo', `The identity provider's userinfo endpoint refused the access token (${printable(error.error)}).`);
  return ssoError('oidc_invalid_userinfo', `The identity provider's userinfo answer could not be used: ${innerMessage(error as LibraryError)}.`);
}

function claimOf(error: LibraryError): unknown {
  const inner = error.cause as LibraryError | undefined;
  const details = inner?.cause as { claim?: unknown } | undefined;
  return details?.claim;
}

/** The most specific message: oauth4webapi's (under openid-client's generic one) when there is one. */
function innerMessage(error: LibraryError | undefined): string {
  const inner = error?.cause;
  const message = inner instanceof Error ? inner.message : (error?.message ?? 'unknown error');
  return message.replace(/\.$/, '');
}

function isResponseBodyError(error: unknown): error is { error: string } {
  return error instanceof Error && (error as { code?: unknown }).code === 'OAUTH_RESPONSE_BODY_ERROR' && typeof (error as { error?: unknown }).error === 'string';
}

function findCause<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    if (current instanceof type) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** An IdP's error code, as shown back: printable ASCII, bounded. */
export function printable(value: string): string {
  const cleaned = value.replace(/[^\x20-\x7e]/g, '').slice(0, 100);
  return cleaned === '' ? 'no error code' : cleaned;
}
