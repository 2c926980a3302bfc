import { checkIdpUrl, IdpRequestError } from '../../sso/idp-http.js';
import type { SsoImplicitRoleAssignment } from '../organizations/organization.js';
import { hostOf } from '../webhooks/webhook-address.js';
import { ssoError, type SsoErrorCode } from './errors.js';
import { type AttributeMapping, IDENTITY_PROVIDERS, type IdentityProvider } from './sso-connection.js';

/**
 * The checks of the values a connection's create and update calls send, shared by the three kinds.
 * Each answers the value as stored, or throws Stytch's error for the field.
 */

export const MAX_DISPLAY_NAME = 256;
/** Longest free-text setting (entity ids, URLs, NameID formats, client ids, scopes). */
export const MAX_SETTING = 2048;
export const MAX_CLIENT_SECRET = 1024;
const MAX_MAPPING_KEYS = 64;
const MAX_MAPPING_TEXT = 256;
/** The most implicit role assignments (of both kinds) one connection may hold. */
const MAX_ASSIGNMENTS = 100;

export function checkDisplayName(displayName: string): string {
  if (displayName.length > MAX_DISPLAY_NAME) throw ssoError('invalid_display_name');
  return displayName;
}

export function checkIdentityProvider(identityProvider: string): IdentityProvider {
  if (!(IDENTITY_PROVIDERS as readonly string[]).includes(identityProvider)) throw ssoError('invalid_sso_idp');
  return identityProvider as IdentityProvider;
}

/** A free-text setting: at most MAX_SETTING characters, no control characters. */
export function checkSetting(field: string, value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
  if (value.length > MAX_SETTING || /[\u0000-\u001f\u007f]/.test(value)) {
    throw ssoError('invalid_sso_connection_setting', `${field} must be at most ${MAX_SETTING} characters, without control characters.`);
  }
  return value;
}

/**
 * `attribute_mapping`: which IdP attribute (or claim) holds each member field, a flat object of
 * strings. The whole mapping is replaced by the one sent.
 */
export function checkAttributeMapping(mapping: Readonly<Record<string, unknown>>): AttributeMapping {
  const entries = Object.entries(mapping);
  if (entries.length > MAX_MAPPING_KEYS) {
    throw ssoError('invalid_sso_connection_setting', `attribute_mapping may map at most ${MAX_MAPPING_KEYS} keys.`);
  }
  const checked: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw ssoError('saml_connection_no_nested_keys_in_attribute_mapping');
    if (key === '' || key.length > MAX_MAPPING_TEXT || value.length > MAX_MAPPING_TEXT) {
      throw ssoError('invalid_sso_connection_setting', `attribute_mapping keys must be 1 to ${MAX_MAPPING_TEXT} characters, and values at most ${MAX_MAPPING_TEXT}.`);
    }
    checked[key] = value;
  }
  return checked;
}

/** Whether group implicit role assignments can ever match: the mapping names the IdP's groups attribute. */
export function mapsGroups(mapping: AttributeMapping): boolean {
  return typeof mapping.groups === 'string' && mapping.groups !== '';
}

/**
 * A URL the member's browser is sent to (SAML `idp_sso_url`, OIDC `authorization_url`): absolute,
 * https:// (http:// only for localhost, for IdPs on a developer's machine), no user:password@.
 */
export function checkBrowserUrl(value: string, codes: { invalid: SsoErrorCode; notHttps?: SsoErrorCode }, field: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw ssoError(codes.invalid);
  }
  if (value.length > MAX_SETTING || url.username !== '' || url.password !== '' || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw ssoError(codes.invalid);
  }
  const host = hostOf(url);
  const local = host === 'localhost' || host.endsWith('.localhost') || host === '127.0.0.1' || host === '::1';
  if (url.protocol === 'http:' && !local) {
    throw ssoError(codes.notHttps ?? codes.invalid, `${field} must use https:// (http:// only for localhost).`);
  }
  return value;
}

/**
 * A URL the server itself fetches (OIDC issuer, token, userinfo and JWKS endpoints): the IdP
 * fetch's own rules (idp-http.ts: https://, and loopback or private addresses only where the
 * deployment allows them) are checked when it is set, so a refused one is answered now rather than
 * at the first sign-in.
 */
export function checkFetchedUrl(value: string, code: SsoErrorCode, field: string, allowPrivateAddresses: boolean): string {
  if (value.length > MAX_SETTING) throw ssoError(code);
  try {
    checkIdpUrl(value, allowPrivateAddresses);
  } catch (error) {
    if (error instanceof IdpRequestError) throw ssoError(code, `${field} ${error.message}.`);
    throw error;
  }
  return value;
}

/** An implicit role assignment as a create or update call sends it (a group only for group assignments). */
export interface AssignmentInput {
  readonly roleId: string;
  readonly group?: string | undefined;
}

/** The role assignments one request field sends for a connection: checked, duplicates dropped. */
export function implicitAssignments(connectionId: string, given: readonly AssignmentInput[], field: string, withGroups: boolean): SsoImplicitRoleAssignment[] {
  const assignments: SsoImplicitRoleAssignment[] = [];
  const seen = new Set<string>();
  for (const entry of given) {
    if (entry.roleId === '') throw ssoError('invalid_sso_connection_setting', `${field} needs a role_id in every entry.`);
    if (withGroups && (entry.group === undefined || entry.group === '' || entry.group.length > MAX_MAPPING_TEXT)) {
      throw ssoError('invalid_sso_connection_setting', `${field} needs a group of 1 to ${MAX_MAPPING_TEXT} characters in every entry.`);
    }
    const assignment: SsoImplicitRoleAssignment = withGroups ? { connectionId, roleId: entry.roleId, group: entry.group as string } : { connectionId, roleId: entry.roleId };
    const key = JSON.stringify([assignment.roleId, assignment.group ?? null]);
    if (seen.has(key)) continue;
    seen.add(key);
    assignments.push(assignment);
  }
  if (assignments.length > MAX_ASSIGNMENTS) throw ssoError('invalid_sso_connection_setting', `${field} may hold at most ${MAX_ASSIGNMENTS} assignments.`);
  return assignments;
}
