import { assertFiniteNumbers } from '../common/json-values.js';
import { organizationError } from './errors.js';

export type AllowedType = 'ALL_ALLOWED' | 'RESTRICTED' | 'NOT_ALLOWED';
export type MfaPolicy = 'OPTIONAL' | 'REQUIRED_FOR_ALL';

export interface EmailImplicitRoleAssignment {
  readonly domain: string;
  readonly roleId: string;
}

/**
 * A role every member signing in through an SSO connection holds (no `group`), or only those the
 * connection's IdP places in `group`. A session holds it only when it signed in through that connection.
 */
export interface SsoImplicitRoleAssignment {
  readonly connectionId: string;
  readonly group?: string;
  readonly roleId: string;
}

/**
 * One of the organization's active SSO connections as the organization object lists them
 * (`sso_active_connections`); an external connection names its source's identity provider.
 */
export interface SsoActiveConnection {
  readonly connectionId: string;
  readonly displayName: string;
  readonly identityProvider: string;
}

export interface CustomRole {
  readonly roleId: string;
  readonly description: string;
  readonly permissions: readonly { readonly resourceId: string; readonly actions: readonly string[] }[];
}

/** The authentication and provisioning settings of an organization. */
export interface OrganizationSettings {
  readonly ssoJitProvisioning: AllowedType;
  readonly ssoJitProvisioningAllowedConnections: readonly string[];
  readonly ssoDefaultConnectionId: string | null;
  readonly emailAllowedDomains: readonly string[];
  readonly emailJitProvisioning: 'RESTRICTED' | 'NOT_ALLOWED';
  readonly emailInvites: AllowedType;
  readonly authMethods: 'ALL_ALLOWED' | 'RESTRICTED';
  readonly allowedAuthMethods: readonly string[];
  readonly mfaPolicy: MfaPolicy;
  readonly mfaMethods: 'ALL_ALLOWED' | 'RESTRICTED';
  readonly allowedMfaMethods: readonly string[];
  readonly rbacEmailImplicitRoleAssignments: readonly EmailImplicitRoleAssignment[];
  /** Set with the organization's SSO connections (not through organizations.update); [] until then. */
  readonly ssoImplicitRoleAssignments: readonly SsoImplicitRoleAssignment[];
  /**
   * Kept by the SSO connections service in the transaction of every connection change (oldest
   * first), so every answer carrying the organization shows them without reading the connections.
   */
  readonly ssoActiveConnections: readonly SsoActiveConnection[];
  readonly oauthTenantJitProvisioning: 'RESTRICTED' | 'NOT_ALLOWED';
  readonly allowedOauthTenants: Readonly<Record<string, readonly string[]>>;
  readonly claimedEmailDomains: readonly string[];
  readonly firstPartyConnectedAppsAllowedType: AllowedType;
  readonly allowedFirstPartyConnectedApps: readonly string[];
  readonly thirdPartyConnectedAppsAllowedType: AllowedType;
  readonly allowedThirdPartyConnectedApps: readonly string[];
  readonly customRoles: readonly CustomRole[];
}

export interface Organization {
  readonly organizationId: string;
  readonly organizationName: string;
  readonly organizationSlug: string;
  readonly organizationLogoUrl: string;
  readonly organizationExternalId: string | null;
  readonly trustedMetadata: Readonly<Record<string, unknown>>;
  readonly settings: OrganizationSettings;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * Settings a caller may send on create or update; absent means "leave as is" (or default). An
 * enumerated setting (mfa_policy, email_invites, …) is any text here: mergeSettings answers an
 * unknown value with Stytch's own error code, and only its result carries the narrow type.
 */
export type OrganizationSettingsInput = {
  readonly [Key in Exclude<keyof OrganizationSettings, 'customRoles' | 'ssoImplicitRoleAssignments' | 'ssoActiveConnections'>]?: OrganizationSettings[Key] extends string ? string : OrganizationSettings[Key];
};

export const AUTH_METHODS = [
  'sso',
  'magic_link',
  'email_otp',
  'password',
  'google_oauth',
  'microsoft_oauth',
  'slack_oauth',
  'github_oauth',
  'hubspot_oauth',
] as const;
export const MFA_METHODS = ['sms_otp', 'totp'] as const;
export const OAUTH_TENANT_PROVIDERS = ['slack', 'hubspot', 'github'] as const;
const ALLOWED_TYPES: readonly AllowedType[] = ['ALL_ALLOWED', 'RESTRICTED', 'NOT_ALLOWED'];
const MFA_POLICIES: readonly MfaPolicy[] = ['OPTIONAL', 'REQUIRED_FOR_ALL'];

/** Stytch's documented defaults of these fields. `emailInvites` is decided at create time. */
export const DEFAULT_SETTINGS: OrganizationSettings = {
  ssoJitProvisioning: 'ALL_ALLOWED',
  ssoJitProvisioningAllowedConnections: [],
  ssoDefaultConnectionId: null,
  emailAllowedDomains: [],
  emailJitProvisioning: 'NOT_ALLOWED',
  emailInvites: 'ALL_ALLOWED',
  authMethods: 'ALL_ALLOWED',
  allowedAuthMethods: [],
  mfaPolicy: 'OPTIONAL',
  mfaMethods: 'ALL_ALLOWED',
  allowedMfaMethods: [],
  rbacEmailImplicitRoleAssignments: [],
  ssoImplicitRoleAssignments: [],
  ssoActiveConnections: [],
  oauthTenantJitProvisioning: 'NOT_ALLOWED',
  allowedOauthTenants: {},
  claimedEmailDomains: [],
  firstPartyConnectedAppsAllowedType: 'ALL_ALLOWED',
  allowedFirstPartyConnectedApps: [],
  thirdPartyConnectedAppsAllowedType: 'ALL_ALLOWED',
  allowedThirdPartyConnectedApps: [],
  customRoles: [],
};

/**
 * Settings as stored (JSON): a key added after a row was written is missing from it and reads as
 * its default, so older organizations need no rewrite.
 */
export function storedSettings(stored: Partial<OrganizationSettings>): OrganizationSettings {
  return { ...DEFAULT_SETTINGS, ...stored };
}

/**
 * Stytch: "If no Organization authentication parameters are passed in, `email_invites` defaults to
 * `ALL_ALLOWED`; if some are passed but `email_invites` is omitted, it defaults to `NOT_ALLOWED`."
 */
export function defaultEmailInvites(input: OrganizationSettingsInput): AllowedType {
  const authKeys: (keyof OrganizationSettingsInput)[] = [
    'ssoJitProvisioning',
    'emailAllowedDomains',
    'emailJitProvisioning',
    'authMethods',
    'allowedAuthMethods',
    'mfaPolicy',
    'mfaMethods',
    'allowedMfaMethods',
    'oauthTenantJitProvisioning',
    'allowedOauthTenants',
  ];
  return authKeys.some((key) => input[key] !== undefined) ? 'NOT_ALLOWED' : 'ALL_ALLOWED';
}

const SLUG = /^[A-Za-z0-9\-._~]{2,128}$/;
const EXTERNAL_ID = /^[A-Za-z0-9._\-|]{1,128}$/;
const DOMAIN = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;

/** Common consumer mail domains, refused as organization domains as Stytch does. */
const COMMON_EMAIL_DOMAINS = new Set([
  'gmail.com', 'googlemail.com', 'yahoo.com', 'yahoo.co.uk', 'ymail.com', 'hotmail.com', 'hotmail.co.uk',
  'outlook.com', 'live.com', 'msn.com', 'aol.com', 'icloud.com', 'me.com', 'mac.com', 'protonmail.com',
  'proton.me', 'pm.me', 'gmx.com', 'gmx.de', 'gmx.net', 'mail.com', 'zoho.com', 'yandex.com', 'yandex.ru',
  'qq.com', '163.com', '126.com', 'web.de', 'fastmail.com', 'hey.com', 'tutanota.com', 'comcast.net',
]);

/** A consumer mail domain (gmail.com, …), which names a person rather than an organization. */
export function isCommonEmailDomain(domain: string): boolean {
  return COMMON_EMAIL_DOMAINS.has(domain);
}

export function checkOrganizationName(name: string | undefined): string {
  const trimmed = (name ?? '').trim();
  if (trimmed === '') throw organizationError('organization_name_missing');
  if (trimmed.length > 128) throw organizationError('invalid_organization_name');
  return trimmed;
}

export function checkOrganizationSlug(slug: string): string {
  if (!SLUG.test(slug)) throw organizationError('invalid_organization_slug');
  return slug;
}

export function checkOrganizationExternalId(externalId: string): string {
  if (!EXTERNAL_ID.test(externalId)) throw organizationError('invalid_organization_external_id');
  return externalId;
}

export function checkTrustedMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  assertFiniteNumbers(metadata, 'trusted_metadata');
  return metadata;
}

export function checkLogoUrl(url: string): string {
  if (url === '') return url;
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return url;
  } catch {
    // fall through to the domain error
  }
  throw organizationError('invalid_organization_logo_url');
}

/** Where a domain is used decides which Stytch error names a bad one. */
const DOMAIN_ERRORS = {
  allowed: { invalid: 'organization_settings_invalid_domain', common: 'organization_settings_domain_too_common' },
  claimed: { invalid: 'organization_settings_invalid_claimed_domain', common: 'organization_settings_claimed_domain_too_common' },
  rbac: { invalid: 'rbac_invalid_domain', common: 'rbac_domain_too_common' },
} as const;

/** Domains are compared in lower case; common consumer domains are refused. */
export function checkEmailDomains(domains: readonly string[], use: keyof typeof DOMAIN_ERRORS): string[] {
  const normalized = domains.map((domain) => domain.trim().toLowerCase());
  for (const domain of normalized) {
    if (!DOMAIN.test(domain)) throw organizationError(DOMAIN_ERRORS[use].invalid, `"${domain}" is not a valid email domain.`);
    if (COMMON_EMAIL_DOMAINS.has(domain)) throw organizationError(DOMAIN_ERRORS[use].common, `"${domain}" is too common for an organization.`);
  }
  return [...new Set(normalized)];
}

/** Validates every setting the caller sent and returns the merged, normalized settings. */
export function mergeSettings(current: OrganizationSettings, input: OrganizationSettingsInput): OrganizationSettings {
  // Checked in this order, so a request with several bad settings is answered for the first of them.
  const enumerated = {
    ssoJitProvisioning: checkAllowedType('sso_jit_provisioning', input.ssoJitProvisioning, ALLOWED_TYPES),
    emailJitProvisioning: checkAllowedType('email_jit_provisioning', input.emailJitProvisioning, ['RESTRICTED', 'NOT_ALLOWED']),
    emailInvites: checkAllowedType('email_invites', input.emailInvites, ALLOWED_TYPES),
    oauthTenantJitProvisioning: checkAllowedType('oauth_tenant_jit_provisioning', input.oauthTenantJitProvisioning, ['RESTRICTED', 'NOT_ALLOWED']),
    firstPartyConnectedAppsAllowedType: checkAllowedType('first_party_connected_apps_allowed_type', input.firstPartyConnectedAppsAllowedType, ALLOWED_TYPES),
    thirdPartyConnectedAppsAllowedType: checkAllowedType('third_party_connected_apps_allowed_type', input.thirdPartyConnectedAppsAllowedType, ALLOWED_TYPES),
    mfaPolicy: checkMfaPolicy(input.mfaPolicy),
    authMethods: checkMethods('auth_methods', input.authMethods, input.allowedAuthMethods, AUTH_METHODS, 'invalid_organization_allowed_auth_methods'),
    mfaMethods: checkMethods('mfa_methods', input.mfaMethods, input.allowedMfaMethods, MFA_METHODS, 'invalid_organization_allowed_mfa_methods'),
  };
  checkOauthTenants(input.allowedOauthTenants);

  const merged: OrganizationSettings = {
    ...current,
    // Only settings keys: create/update inputs also carry the name, slug and metadata, which must not leak into settings.
    ...withoutUndefined({ ...settingsOnly(input), ...enumerated }),
    // '' clears the default connection (Stytch answers an unset one as null).
    ...(input.ssoDefaultConnectionId !== undefined && { ssoDefaultConnectionId: input.ssoDefaultConnectionId === '' ? null : input.ssoDefaultConnectionId }),
    ...(input.ssoJitProvisioningAllowedConnections && { ssoJitProvisioningAllowedConnections: [...new Set(input.ssoJitProvisioningAllowedConnections)] }),
    ...(input.emailAllowedDomains && { emailAllowedDomains: checkEmailDomains(input.emailAllowedDomains, 'allowed') }),
    ...(input.claimedEmailDomains && { claimedEmailDomains: checkEmailDomains(input.claimedEmailDomains, 'claimed') }),
    ...(input.rbacEmailImplicitRoleAssignments && {
      rbacEmailImplicitRoleAssignments: checkImplicitRoleAssignments(input.rbacEmailImplicitRoleAssignments),
    }),
  };
  // Stytch refuses a RESTRICTED policy with nothing allowed, whichever of the two fields changed.
  if (merged.authMethods === 'RESTRICTED' && merged.allowedAuthMethods.length === 0) {
    throw organizationError('allowed_auth_methods_required_for_restricted');
  }
  if (merged.mfaMethods === 'RESTRICTED' && merged.allowedMfaMethods.length === 0) {
    throw organizationError('allowed_mfa_methods_required_for_restricted');
  }
  return merged;
}

function checkAllowedType<Allowed extends string>(field: string, value: string | undefined, allowed: readonly Allowed[]): Allowed | undefined {
  if (value === undefined || isOneOf(value, allowed)) return value;
  throw organizationError('invalid_organization_settings', `${field} must be one of ${allowed.join(', ')}.`);
}

function checkMfaPolicy(value: string | undefined): MfaPolicy | undefined {
  if (value === undefined || isOneOf(value, MFA_POLICIES)) return value;
  throw organizationError('invalid_organization_mfa_policy');
}

function isOneOf<Allowed extends string>(value: string, allowed: readonly Allowed[]): value is Allowed {
  return (allowed as readonly string[]).includes(value);
}

function checkMethods(
  field: string,
  setting: string | undefined,
  methods: readonly string[] | undefined,
  known: readonly string[],
  unknownMethodCode: 'invalid_organization_allowed_auth_methods' | 'invalid_organization_allowed_mfa_methods',
): 'ALL_ALLOWED' | 'RESTRICTED' | undefined {
  if (setting !== undefined && setting !== 'ALL_ALLOWED' && setting !== 'RESTRICTED') {
    throw organizationError('invalid_organization_auth_method_settings', `${field} must be ALL_ALLOWED or RESTRICTED.`);
  }
  const unknown = (methods ?? []).filter((method) => !known.includes(method));
  if (unknown.length > 0) {
    throw organizationError(
      unknownMethodCode,
      `allowed_${field} accepts only ${known.join(', ')}; got ${unknown.join(', ')}.`,
    );
  }
  return setting;
}

function checkOauthTenants(tenants: Readonly<Record<string, readonly string[]>> | undefined): void {
  for (const [provider, ids] of Object.entries(tenants ?? {})) {
    if (!(OAUTH_TENANT_PROVIDERS as readonly string[]).includes(provider)) {
      throw organizationError('invalid_organization_settings', `allowed_oauth_tenants accepts only slack, hubspot and github.`);
    }
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || id === '')) {
      throw organizationError('invalid_organization_settings', `allowed_oauth_tenants.${provider} must be a list of tenant ids.`);
    }
  }
}

function checkImplicitRoleAssignments(assignments: readonly EmailImplicitRoleAssignment[]): EmailImplicitRoleAssignment[] {
  return assignments.map((assignment) => {
    const [domain] = checkEmailDomains([assignment.domain], 'rbac');
    if (assignment.roleId.trim() === '') {
      throw organizationError('invalid_organization_settings', 'rbac_email_implicit_role_assignments need a role_id.');
    }
    return { domain: domain as string, roleId: assignment.roleId };
  });
}

function settingsOnly(input: OrganizationSettingsInput): OrganizationSettingsInput {
  return Object.fromEntries(Object.entries(input).filter(([key]) => Object.hasOwn(DEFAULT_SETTINGS, key))) as OrganizationSettingsInput;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
