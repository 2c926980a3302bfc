import { checkAttributeMapping, checkBrowserUrl, checkDisplayName, checkFetchedUrl, checkIdentityProvider, checkSetting, MAX_CLIENT_SECRET } from './connections-validation.js';
import { ssoError, type SsoErrorCode } from './errors.js';
import type { OidcConnection } from './sso-connection.js';

/** sso.oidc.updateConnection's fields, as the service takes them (absent: leave as is). */
export interface OidcUpdateInput {
  readonly displayName?: string | undefined;
  readonly clientId?: string | undefined;
  readonly clientSecret?: string | undefined;
  readonly issuer?: string | undefined;
  readonly authorizationUrl?: string | undefined;
  readonly tokenUrl?: string | undefined;
  readonly userinfoUrl?: string | undefined;
  readonly jwksUrl?: string | undefined;
  readonly identityProvider?: string | undefined;
  readonly customScopes?: string | undefined;
  readonly attributeMapping?: Readonly<Record<string, unknown>> | undefined;
}

const FIELD_NAMES: Readonly<Record<keyof OidcUpdateInput, string>> = {
  displayName: 'display_name',
  clientId: 'client_id',
  clientSecret: 'client_secret',
  issuer: 'issuer',
  authorizationUrl: 'authorization_url',
  tokenUrl: 'token_url',
  userinfoUrl: 'userinfo_url',
  jwksUrl: 'jwks_url',
  identityProvider: 'identity_provider',
  customScopes: 'custom_scopes',
  attributeMapping: 'attribute_mapping',
};

export type OidcFields = Partial<
  Pick<OidcConnection, 'displayName' | 'identityProvider' | 'clientId' | 'issuer' | 'authorizationUrl' | 'tokenUrl' | 'userinfoUrl' | 'jwksUrl' | 'customScopes' | 'attributeMapping'>
>;

export interface PreparedOidcUpdate {
  readonly fields: OidcFields;
  /** The new client secret, in clear until it is sealed in the transaction. */
  readonly clientSecret?: string;
  readonly sent: string[];
}

/** The endpoints discovery may fill: those the update did not send. */
export const DISCOVERED_ENDPOINTS = ['authorizationUrl', 'tokenUrl', 'userinfoUrl', 'jwksUrl'] as const;

/**
 * Checks every value sent; reads and writes nothing. Values the connection needs to sign in
 * cannot be emptied (an active connection stays active). URLs the server fetches follow the IdP
 * fetch's address rules; the authorization URL is the browser's, so it only needs https://.
 */
export function prepareOidcUpdate(input: OidcUpdateInput, allowPrivateAddresses: boolean): PreparedOidcUpdate {
  const fields: { -readonly [K in keyof OidcFields]: OidcFields[K] } = {};
  const required = (value: string, code: SsoErrorCode): string => {
    if (value === '') throw ssoError(code);
    return value;
  };
  if (input.displayName !== undefined) fields.displayName = checkDisplayName(input.displayName);
  if (input.identityProvider !== undefined) fields.identityProvider = checkIdentityProvider(input.identityProvider);
  if (input.clientId !== undefined) fields.clientId = checkSetting('client_id', required(input.clientId, 'oidc_connection_client_id_required'));
  if (input.issuer !== undefined) {
    fields.issuer = checkFetchedUrl(required(input.issuer, 'oidc_connection_issuer_required'), 'oidc_connection_issuer_url_invalid_format', 'issuer', allowPrivateAddresses);
  }
  if (input.authorizationUrl !== undefined) {
    fields.authorizationUrl = checkBrowserUrl(required(input.authorizationUrl, 'oidc_connection_authorization_url_required'), { invalid: 'oidc_connection_authorization_url_invalid_format' }, 'authorization_url');
  }
  if (input.tokenUrl !== undefined) {
    fields.tokenUrl = checkFetchedUrl(required(input.tokenUrl, 'oidc_connection_token_url_required'), 'oidc_connection_token_url_invalid_format', 'token_url', allowPrivateAddresses);
  }
  if (input.jwksUrl !== undefined) {
    fields.jwksUrl = checkFetchedUrl(required(input.jwksUrl, 'oidc_connection_jwks_url_required'), 'oidc_connection_jwks_url_invalid_format', 'jwks_url', allowPrivateAddresses);
  }
  // The userinfo endpoint is optional (the ID token may carry every claim): '' clears it.
  if (input.userinfoUrl !== undefined) {
    fields.userinfoUrl =
      input.userinfoUrl === '' ? '' : checkFetchedUrl(input.userinfoUrl, 'oidc_connection_userinfo_url_invalid_format', 'userinfo_url', allowPrivateAddresses);
  }
  if (input.customScopes !== undefined) fields.customScopes = checkSetting('custom_scopes', input.customScopes).trim().split(/\s+/).filter(Boolean).join(' ');
  if (input.attributeMapping !== undefined) fields.attributeMapping = checkAttributeMapping(input.attributeMapping);
  let clientSecret: string | undefined;
  if (input.clientSecret !== undefined) {
    clientSecret = required(input.clientSecret, 'oidc_connection_client_secret_required');
    if (clientSecret.length > MAX_CLIENT_SECRET) throw ssoError('client_secret_too_long');
  }
  const sent = (Object.keys(FIELD_NAMES) as (keyof OidcUpdateInput)[]).filter((key) => input[key] !== undefined).map((key) => FIELD_NAMES[key]);
  return { fields, ...(clientSecret !== undefined && { clientSecret }), sent };
}

/** Whether the connection holds what sign-in needs (the client secret is held apart, sealed). */
export function oidcReady(connection: Pick<OidcConnection, 'clientId' | 'issuer' | 'authorizationUrl' | 'tokenUrl' | 'jwksUrl'>, hasClientSecret: boolean): boolean {
  return hasClientSecret && [connection.clientId, connection.issuer, connection.authorizationUrl, connection.tokenUrl, connection.jwksUrl].every((value) => value !== '');
}
