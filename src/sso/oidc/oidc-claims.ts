import { ssoError } from '../../domain/sso/errors.js';
import type { OidcConnection } from '../../domain/sso/sso-connection.js';
import type { SsoProof } from '../../domain/sso/sso-request.js';
import { normalizeEmail } from '../../domain/members/member.js';
import { isDomainError } from '../../domain/common/domain-error.js';

/** Claims about the token itself, not the person: left out of `sso_attributes`. */
const PROTOCOL_CLAIMS = new Set(['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'nonce', 'azp', 'at_hash', 'c_hash', 's_hash', 'auth_time', 'sid', 'acr', 'amr']);

/** Keys of attribute_mapping that name member fields; any other key is copied into `sso_attributes` under its own name. */
const MEMBER_FIELDS = new Set(['email', 'first_name', 'last_name', 'full_name', 'name', 'groups']);

const MAX_ATTRIBUTES = 100;
const MAX_VALUE_LENGTH = 2048;
const MAX_LIST_LENGTH = 1000;

type Claims = Readonly<Record<string, unknown>>;

/**
 * Who the IdP says signed in, from the ID token's claims merged with the userinfo answer's (which
 * wins: IdPs that follow OIDC's "conform" rule put profile claims only there). `attribute_mapping`
 * names the claims of each member field; unmapped, Stytch's defaults: `email`, `name` (or
 * `given_name` + `family_name`), `groups`.
 */
export function proofFromClaims(connection: OidcConnection, claims: Claims): SsoProof {
  const subject = claims.sub;
  if (typeof subject !== 'string' || subject === '') throw ssoError('oidc_response_subject_missing');
  const mapping = connection.attributeMapping;
  const emailClaim = mapping.email ?? 'email';
  const rawEmail = text(claims[emailClaim]);
  if (rawEmail === '') throw ssoError('oidc_response_email_missing', `The identity provider asserted no email address (claim "${emailClaim}").`);
  // An explicit false only: many IdPs (Microsoft Entra among them) never send email_verified.
  if (claims.email_verified === false || claims.email_verified === 'false') throw ssoError('oidc_response_unverified_email');
  let emailAddress: string;
  try {
    emailAddress = normalizeEmail(rawEmail);
  } catch (error) {
    if (isDomainError(error)) throw ssoError('oidc_response_email_missing', `The identity provider's "${emailClaim}" claim is not a usable email address: ${error.message}`);
    throw error;
  }
  return {
    protocol: 'oidc',
    connectionId: connection.connectionId,
    subject,
    emailAddress,
    name: nameOf(mapping, claims),
    groups: groupsOf(claims[mapping.groups ?? 'groups']),
    attributes: attributesOf(mapping, claims),
  };
}

function nameOf(mapping: Readonly<Record<string, string>>, claims: Claims): string {
  const full = mapping.full_name ?? mapping.name;
  if (full !== undefined) return text(claims[full]);
  const name = text(claims.name);
  if (name !== '') return name;
  return [text(claims[mapping.first_name ?? 'given_name']), text(claims[mapping.last_name ?? 'family_name'])].filter((part) => part !== '').join(' ');
}

/** A list of group names, or one name; anything else asserts no groups. */
function groupsOf(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value.slice(0, MAX_VALUE_LENGTH)];
  if (!Array.isArray(value)) return [];
  return value
    .filter((each): each is string => typeof each === 'string' && each !== '')
    .slice(0, MAX_LIST_LENGTH)
    .map((each) => each.slice(0, MAX_VALUE_LENGTH));
}

/** Every claim about the person, as strings or string lists (bounded: an IdP's answer is not ours to store in full). */
function attributesOf(mapping: Readonly<Record<string, string>>, claims: Claims): Record<string, string | string[]> {
  const attributes: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (PROTOCOL_CLAIMS.has(name) || Object.keys(attributes).length >= MAX_ATTRIBUTES) continue;
    const converted = attributeValue(value);
    if (converted !== undefined) attributes[name] = converted;
  }
  for (const [key, claim] of Object.entries(mapping)) {
    if (MEMBER_FIELDS.has(key) || !Object.hasOwn(claims, claim)) continue;
    const converted = attributeValue(claims[claim]);
    if (converted !== undefined) attributes[key] = converted;
  }
  return attributes;
}

function attributeValue(value: unknown): string | string[] | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return value.slice(0, MAX_LIST_LENGTH).map((each) => scalar(each));
  return scalar(value);
}

function scalar(value: unknown): string {
  const converted = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : (JSON.stringify(value) ?? '');
  return converted.slice(0, MAX_VALUE_LENGTH);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}
