/**
 * The URLs of a connection that identity providers and browsers use. Stytch uses one URL for a SAML
 * connection's ACS URL and audience URI, and the same callback path for an OIDC connection's
 * redirect URL; Understudy does the same under its public origin (src/platform/public-origin.ts).
 */
export const SSO_START_PATH = '/v1/public/sso/start';
export const SSO_CALLBACK_ROUTE = '/v1/b2b/sso/callback/:connection_id';
/** Our SP metadata for a SAML connection (an extension: Stytch shows these values in its dashboard). */
export const SAML_METADATA_ROUTE = '/v1/b2b/sso/saml/metadata/:connection_id';

export function ssoCallbackUrl(origin: string, connectionId: string): string {
  return `${origin}/v1/b2b/sso/callback/${encodeURIComponent(connectionId)}`;
}

export function samlMetadataUrl(origin: string, connectionId: string): string {
  return `${origin}/v1/b2b/sso/saml/metadata/${encodeURIComponent(connectionId)}`;
}
