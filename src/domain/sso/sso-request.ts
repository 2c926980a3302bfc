import type { SsoConnectionKind } from './sso-connection.js';

/**
 * One sign-in started at `/v1/public/sso/start` (or a console "test this connection"), waiting for
 * the IdP's answer. The browser carries its token: OIDC's `state`, SAML's `RelayState`. Only the
 * token's lookup id and SHA-256 digest are stored, and the request is spent once (`consumedAt`), so
 * an IdP answer can be used once. Nothing binds it to the browser that started it (as at Stytch):
 * the application's PKCE challenge does, at sso.authenticate, which is why applications should send
 * one.
 *
 * `protocolRequestId` is what the IdP must echo: the SAML AuthnRequest's ID (InResponseTo); for
 * OIDC, unused (''). `nonce` is OIDC's ID-token nonce (not a secret: it is in the URL). OIDC's PKCE
 * code verifier is not stored: it is derived from the state token under a key derived from the
 * master key (src/sso/oidc/oidc-pkce.ts).
 */
export interface SsoRequest {
  readonly requestId: string;
  readonly lookupId: string;
  /** SHA-256 of the whole token, hex. */
  readonly digest: string;
  /** The SAML or OIDC connection the IdP answers for: the callback URL names it. */
  readonly connectionId: string;
  /**
   * The connection the member signs in through, and its organization: `connectionId` itself, or an
   * external connection (of another organization) that borrows it.
   */
  readonly signInConnectionId: string;
  readonly organizationId: string;
  /** The kind of `connectionId`. */
  readonly kind: Exclude<SsoConnectionKind, 'external'>;
  /** `sign_in` ends with an SSO token on a redirect URL; `test` (console) only records what the IdP asserted. */
  readonly purpose: 'sign_in' | 'test';
  readonly protocolRequestId: string;
  readonly nonce: string;
  readonly loginRedirectUrl: string;
  readonly signupRedirectUrl: string;
  /** The application's PKCE challenge (S256), that sso.authenticate's `pkce_code_verifier` must meet; '' for none. */
  readonly pkceCodeChallenge: string;
  /** The operator who started a `test` request; '' otherwise. */
  readonly operatorId: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly consumedAt: string | null;
  /** What a `test` request's IdP answer asserted, or why it was refused; null until answered. */
  readonly testResult: SsoTestResult | null;
}

export type SsoTestResult =
  | { readonly outcome: 'success'; readonly proof: SsoProof }
  | { readonly outcome: 'refused'; readonly errorType: string; readonly message: string };

/**
 * Who the IdP said signed in, after the protocol checked its answer (signature, audience, expiry,
 * state, nonce…). What sso.authenticate turns into a member.
 */
export interface SsoProof {
  readonly protocol: Exclude<SsoConnectionKind, 'external'>;
  /** The connection the IdP answered for (an external connection's source). */
  readonly connectionId: string;
  /** The IdP's stable id of the person: SAML NameID, OIDC `sub`. */
  readonly subject: string;
  /** Lower-cased; '' when the IdP asserted none (refused at sign-in). */
  readonly emailAddress: string;
  readonly name: string;
  readonly groups: readonly string[];
  /** Every attribute or claim the IdP asserted, as strings or string lists (`sso_attributes`). */
  readonly attributes: Readonly<Record<string, string | readonly string[]>>;
}

/** Minutes a started SSO request waits for the IdP's answer (a person signs in at the IdP meanwhile). */
export const SSO_REQUEST_MINUTES = 10;
