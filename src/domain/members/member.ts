import type { Organization } from '../organizations/organization.js';
import { assertFiniteNumbers } from '../common/json-values.js';
import { mapFilterValues, type SearchQuery } from '../common/search.js';
import { memberError } from './errors.js';
import { STYTCH_ADMIN, STYTCH_MEMBER, type PolicyRole } from '../rbac/policy.js';

export type MemberStatus = 'pending' | 'invited' | 'active' | 'deleted';

export interface RetiredEmail {
  readonly emailId: string;
  readonly emailAddress: string;
}

/** A member as stored. Roles shown on the wire are derived by `effectiveRoles`. */
export interface Member {
  readonly memberId: string;
  readonly organizationId: string;
  readonly emailAddress: string;
  readonly emailAddressVerified: boolean;
  readonly status: MemberStatus;
  readonly name: string;
  readonly externalId: string | null;
  readonly isBreakglass: boolean;
  readonly mfaPhoneNumber: string;
  readonly mfaPhoneNumberVerified: boolean;
  readonly mfaEnrolled: boolean;
  readonly defaultMfaMethod: string;
  /** Roles granted by direct assignment (never `stytch_member`, which every member holds implicitly). */
  readonly assignedRoles: readonly string[];
  /**
   * The groups each SSO connection's identity provider last asserted for the member, by connection
   * id. A connection is listed once the member has signed in through it (an empty list when the IdP
   * asserted no groups): the organization's SSO implicit role assignments are matched against it.
   */
  readonly ssoGroups: Readonly<Record<string, readonly string[]>>;
  /** The member's links to IdP identities, one per connection and subject (`sso_registrations`). */
  readonly ssoRegistrations: readonly MemberSsoRegistration[];
  readonly trustedMetadata: Readonly<Record<string, unknown>>;
  readonly untrustedMetadata: Readonly<Record<string, unknown>>;
  readonly retiredEmailAddresses: readonly RetiredEmail[];
  readonly memberPasswordId: string;
  readonly totpRegistrationId: string;
  readonly isLocked: boolean;
  readonly lockCreatedAt: string | null;
  readonly lockExpiresAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** One SSO registration as the member carries it (`api_organization_v1_SSORegistration`). */
export interface MemberSsoRegistration {
  readonly connectionId: string;
  /** The IdP's subject (SAML NameID, OIDC `sub`). */
  readonly externalId: string;
  readonly registrationId: string;
  /** What the IdP last asserted, attribute by attribute. */
  readonly ssoAttributes: Readonly<Record<string, unknown>>;
}

/**
 * A member as first written: no factors, no roles beyond `stytch_member`, nothing verified yet.
 * `overrides` sets what the creating operation was given (members.create, an invitation).
 */
export function newMember(input: {
  memberId: string;
  organization: Organization;
  emailAddress: string;
  status: MemberStatus;
  at: string;
  overrides?: Partial<Omit<Member, 'memberId' | 'organizationId' | 'emailAddress' | 'status' | 'createdAt' | 'updatedAt'>>;
}): Member {
  return {
    memberId: input.memberId,
    organizationId: input.organization.organizationId,
    emailAddress: input.emailAddress,
    emailAddressVerified: false,
    status: input.status,
    name: '',
    externalId: null,
    isBreakglass: false,
    mfaPhoneNumber: '',
    mfaPhoneNumberVerified: false,
    mfaEnrolled: false,
    defaultMfaMethod: '',
    assignedRoles: [],
    ssoGroups: {},
    ssoRegistrations: [],
    trustedMetadata: {},
    untrustedMetadata: {},
    retiredEmailAddresses: [],
    memberPasswordId: '',
    totpRegistrationId: '',
    isLocked: false,
    lockCreatedAt: null,
    lockExpiresAt: null,
    ...input.overrides,
    createdAt: input.at,
    updatedAt: input.at,
  };
}

export type RoleSource =
  | { readonly type: 'direct_assignment'; readonly details: Record<string, never> }
  | { readonly type: 'email_assignment'; readonly details: { readonly email_domain: string } }
  | { readonly type: 'sso_connection'; readonly details: { readonly connection_id: string } }
  | { readonly type: 'sso_connection_group'; readonly details: { readonly connection_id: string; readonly group: string } };

/** The connection an SSO-granted role comes from; undefined for sources every session of the member holds. */
export function ssoConnectionOf(source: RoleSource): string | undefined {
  return source.type === 'sso_connection' || source.type === 'sso_connection_group' ? source.details.connection_id : undefined;
}

export interface MemberRole {
  readonly roleId: string;
  readonly sources: readonly RoleSource[];
}

export { STYTCH_ADMIN, STYTCH_MEMBER } from '../rbac/policy.js';

/**
 * The member's roles with where each comes from, as Stytch lists them: `stytch_member` always,
 * direct assignments, the organization's email-domain implicit assignments, and its SSO implicit
 * assignments for every connection the member has signed in through (a whole connection, or one
 * group the connection's IdP last asserted for them). An SSO source is listed here whatever the
 * session; a session holds its role only when it signed in through that connection (session-roles.ts).
 */
export function effectiveRoles(member: Member, organization: Organization): MemberRole[] {
  const roles = new Map<string, RoleSource[]>([[STYTCH_MEMBER, [{ type: 'direct_assignment', details: {} }]]]);
  const add = (roleId: string, source: RoleSource): void => {
    const sources = roles.get(roleId) ?? [];
    sources.push(source);
    roles.set(roleId, sources);
  };
  for (const roleId of member.assignedRoles) add(roleId, { type: 'direct_assignment', details: {} });
  const domain = emailDomain(member.emailAddress);
  for (const assignment of organization.settings.rbacEmailImplicitRoleAssignments) {
    if (assignment.domain === domain) add(assignment.roleId, { type: 'email_assignment', details: { email_domain: domain } });
  }
  for (const assignment of organization.settings.ssoImplicitRoleAssignments) {
    const groups = Object.hasOwn(member.ssoGroups, assignment.connectionId) ? member.ssoGroups[assignment.connectionId] : undefined;
    if (groups === undefined) continue;
    if (assignment.group === undefined) add(assignment.roleId, { type: 'sso_connection', details: { connection_id: assignment.connectionId } });
    else if (groups.includes(assignment.group)) {
      add(assignment.roleId, { type: 'sso_connection_group', details: { connection_id: assignment.connectionId, group: assignment.group } });
    }
  }
  return [...roles].map(([roleId, sources]) => ({ roleId, sources }));
}

export function isAdmin(roles: readonly MemberRole[]): boolean {
  return roles.some((role) => role.roleId === STYTCH_ADMIN);
}

export function emailDomain(emailAddress: string): string {
  return emailAddress.slice(emailAddress.lastIndexOf('@') + 1);
}

// A pragmatic address check: one @, a dotted domain, no spaces; full RFC 5322 is not what users expect.
const EMAIL = /^[^\s@]{1,64}@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const EXTERNAL_ID = /^[A-Za-z0-9._\-|]{1,128}$/;
const E164 = /^\+[1-9]\d{6,14}$/;
const METADATA_LIMIT_BYTES = 4096;

/**
 * The form email addresses are stored and looked up in: NFKC first, so compatibility forms such as
 * full-width letters (`ＡＤＭＩＮ＠acme.com`) fold into the plain ones, then trimmed and in lower case,
 * as addresses are compared case-insensitively. Lookups use it as is; new addresses also pass `normalizeEmail`.
 */
export function canonicalEmail(emailAddress: string): string {
  return emailAddress.normalize('NFKC').trim().toLowerCase();
}

const CONTROL_OR_FORMAT = /[\p{Cc}\p{Cf}]/u;
const NON_ASCII = /\P{ASCII}/u;

/**
 * Validates and canonicalizes an address. Operators pick members by address in the console and the
 * CLI, so two members must never look alike: invisible characters (Unicode Cc and Cf, such as a
 * zero-width space) are refused, and so is anything outside ASCII once NFKC has folded compatibility
 * forms, which shuts out look-alike letters such as `ı` (dotless i), `İ` or Cyrillic `а`. The domain
 * was ASCII-only already (internationalized domains go in their `xn--` form).
 */
export function normalizeEmail(emailAddress: string): string {
  const normalized = canonicalEmail(emailAddress);
  if (CONTROL_OR_FORMAT.test(normalized)) throw memberError('invalid_email', 'email_address must not contain control or invisible formatting characters.');
  if (NON_ASCII.test(normalized)) throw memberError('invalid_email', 'email_address must be ASCII; addresses with non-ASCII letters are not accepted.');
  if (!EMAIL.test(normalized)) throw memberError('invalid_email');
  return normalized;
}

/** Email filters of a search (`member_emails`, `member_email_fuzzy`) in the form addresses are stored in. */
export function withCanonicalEmails(query: SearchQuery): SearchQuery {
  const exact = mapFilterValues(query, ['member_emails'], canonicalEmail);
  return mapFilterValues(exact, ['member_email_fuzzy'], (value) => value.normalize('NFKC'));
}

export function checkMemberExternalId(externalId: string): string {
  if (!EXTERNAL_ID.test(externalId)) throw memberError('invalid_member_external_id');
  return externalId;
}

export function checkMemberName(name: string): string {
  if (name.length > 1024) throw memberError('invalid_member_name');
  return name;
}

export function checkPhoneNumber(phoneNumber: string): string {
  if (phoneNumber !== '' && !E164.test(phoneNumber)) throw memberError('invalid_phone_number');
  return phoneNumber;
}

export function checkDefaultMfaMethod(method: string): string {
  if (method !== '' && method !== 'sms_otp' && method !== 'totp') throw memberError('invalid_mfa_default_method');
  return method;
}

export function checkMetadata(metadata: Record<string, unknown>, field: string): Record<string, unknown> {
  assertFiniteNumbers(metadata, field);
  if (Buffer.byteLength(JSON.stringify(metadata)) > METADATA_LIMIT_BYTES) {
    throw memberError('metadata_too_large', `${field} must be at most 4 KB of JSON.`);
  }
  return metadata;
}

/**
 * Roles a member can be given directly: every role of `definitions` (the project's policy and the
 * organization's custom roles, RbacPolicyService.rolesOf) but `stytch_member`, which all hold.
 */
export function checkAssignedRoles(roles: readonly string[], definitions: readonly PolicyRole[]): string[] {
  const known = new Set(definitions.map((role) => role.roleId));
  for (const roleId of roles) {
    if (roleId === STYTCH_MEMBER) throw memberError('cannot_assign_default_rbac_role_id');
    if (!known.has(roleId)) throw memberError('invalid_rbac_role_id', `Role "${roleId}" does not exist.`);
  }
  return [...new Set(roles)];
}
