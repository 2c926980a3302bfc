import { IMPERSONATION_RESOURCE, SUPPORT_ACCESS_RESOURCE, UNDERSTUDY_RESOURCES } from './understudy-resources.js';

export interface PolicyPermission {
  readonly resourceId: string;
  readonly actions: readonly string[];
}

export interface PolicyRole {
  readonly roleId: string;
  readonly description: string;
  readonly permissions: readonly PolicyPermission[];
}

export interface PolicyResource {
  readonly resourceId: string;
  readonly description: string;
  readonly actions: readonly string[];
}

export interface PolicyScope {
  readonly scope: string;
  readonly description: string;
  readonly permissions: readonly PolicyPermission[];
}

/** The project's RBAC policy: what `rbac.policy` answers and every authorization decision reads. */
export interface Policy {
  readonly roles: readonly PolicyRole[];
  readonly resources: readonly PolicyResource[];
  readonly scopes: readonly PolicyScope[];
}

/** One stored version of the project's policy; version 0 is the built-in default, never stored. */
export interface PolicyVersion {
  readonly version: number;
  readonly policy: Policy;
  /** Where it came from: the built-in default, the policy file, the console or the CLI. */
  readonly source: PolicySource;
  readonly createdAt: string;
}

export type PolicySource = 'default' | 'file' | 'console' | 'cli';

export const STYTCH_MEMBER = 'stytch_member';
export const STYTCH_ADMIN = 'stytch_admin';
/** The wildcard action: every action on the resource. It cannot be listed with other actions. */
export const ANY_ACTION = '*';

/**
 * Stytch's default resources. Their ids and actions are fixed (a policy may not remove or change
 * them); the spellings are Stytch's current, hyphenated ones.
 */
export const STYTCH_RESOURCES: readonly PolicyResource[] = [
  {
    resourceId: 'stytch.organization',
    description: 'The organization: its name, slug, logo, authentication settings and deletion.',
    actions: [
      'update.info.name', 'update.info.slug', 'update.info.logo-url',
      'update.settings.allowed-auth-methods', 'update.settings.allowed-mfa-methods', 'update.settings.email-jit-provisioning',
      'update.settings.email-invites', 'update.settings.allowed-domains', 'update.settings.default-sso-connection',
      'update.settings.sso-jit-provisioning', 'update.settings.mfa-policy', 'update.settings.implicit-roles',
      'update.settings.oauth-tenant-jit-provisioning', 'update.settings.allowed-oauth-tenants', 'delete',
    ],
  },
  {
    resourceId: 'stytch.member',
    description: 'Every member of the organization.',
    actions: [
      'create', 'update.info.name', 'update.info.email', 'update.info.untrusted-metadata', 'update.info.mfa-phone',
      'update.info.delete.mfa-phone', 'update.info.delete.mfa-totp', 'update.info.delete.password', 'update.info.unlink.retired-email',
      'update.settings.is-breakglass', 'update.settings.mfa-enrolled', 'update.settings.default-mfa-method', 'update.settings.roles',
      'search', 'delete', 'revoke-sessions', 'get.connected-apps', 'revoke.connected-app',
    ],
  },
  {
    resourceId: 'stytch.self',
    description: "The signed-in member's own member object.",
    actions: [
      'update.info.name', 'update.info.email', 'update.info.untrusted-metadata', 'update.info.mfa-phone', 'update.info.delete.mfa-phone',
      'update.info.delete.mfa-totp', 'update.info.delete.password', 'update.info.unlink.retired-email', 'update.settings.mfa-enrolled',
      'update.settings.default-mfa-method', 'delete', 'revoke-sessions', 'get.connected-apps', 'revoke.connected-app',
    ],
  },
  { resourceId: 'stytch.sso', description: "The organization's SSO connections.", actions: ['create', 'get', 'update', 'delete'] },
  { resourceId: 'stytch.scim', description: "The organization's SCIM connection.", actions: ['create', 'get', 'update', 'delete'] },
  { resourceId: 'stytch.custom-org-roles', description: "The organization's own custom roles (its RBAC org policy).", actions: ['create', 'get', 'update', 'delete'] },
];

/** Stytch's default roles. Neither can be removed; their permissions are the project's to change. */
export const DEFAULT_ROLES: readonly PolicyRole[] = [
  {
    roleId: STYTCH_MEMBER,
    description: 'Granted to every member; grants permissions on their own member object.',
    permissions: [{ resourceId: 'stytch.self', actions: [ANY_ACTION] }],
  },
  {
    roleId: STYTCH_ADMIN,
    description: 'Granted to members who create an organization through discovery; administers the organization, its members and its connections.',
    permissions: [
      { resourceId: 'stytch.organization', actions: [ANY_ACTION] },
      { resourceId: 'stytch.member', actions: [ANY_ACTION] },
      { resourceId: 'stytch.sso', actions: [ANY_ACTION] },
      { resourceId: 'stytch.scim', actions: [ANY_ACTION] },
      { resourceId: 'stytch.custom-org-roles', actions: [ANY_ACTION] },
      { resourceId: SUPPORT_ACCESS_RESOURCE, actions: [ANY_ACTION] },
      { resourceId: IMPERSONATION_RESOURCE, actions: [ANY_ACTION] },
    ],
  },
];

/**
 * The resources every policy has, fixed whatever a policy says: Stytch's, then Understudy's own
 * (understudy-resources.ts). A stored policy is served with this release's definitions of them.
 */
export const BUILT_IN_RESOURCES: readonly PolicyResource[] = [...STYTCH_RESOURCES, ...UNDERSTUDY_RESOURCES];

export const DEFAULT_POLICY: Policy = { resources: BUILT_IN_RESOURCES, roles: DEFAULT_ROLES, scopes: [] };

export const DEFAULT_POLICY_VERSION: PolicyVersion = { version: 0, policy: DEFAULT_POLICY, source: 'default', createdAt: '1970-01-01T00:00:00Z' };

export function isStytchResource(resourceId: string): boolean {
  return STYTCH_RESOURCES.some((resource) => resource.resourceId === resourceId);
}

/** One of the resources every policy has: Stytch's or Understudy's. */
export function isBuiltInResource(resourceId: string): boolean {
  return BUILT_IN_RESOURCES.some((resource) => resource.resourceId === resourceId);
}

export function isDefaultRole(roleId: string): boolean {
  return roleId === STYTCH_MEMBER || roleId === STYTCH_ADMIN;
}
