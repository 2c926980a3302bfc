import type { SsoProof } from './sso-request.js';

/**
 * The single-use token an SSO sign-in ends with, on the redirect URL (`?stytch_token_type=sso&token=…`),
 * that the application's backend hands to sso.authenticate. Only its lookup id and digest are stored;
 * it is spent once, inside sso.authenticate's transaction, and lapses after SSO_TOKEN_MINUTES.
 *
 * `organizationId` and `connectionId` are the connection the member signed in through (an external
 * connection's own id and organization, not its source's): the member is found or made there.
 */
export interface SsoToken {
  readonly tokenId: string;
  readonly lookupId: string;
  readonly digest: string;
  readonly organizationId: string;
  readonly connectionId: string;
  readonly proof: SsoProof;
  readonly pkceCodeChallenge: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly consumedAt: string | null;
}

export const SSO_TOKEN_MINUTES = 10;
