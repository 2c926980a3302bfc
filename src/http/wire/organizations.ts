import type { Organization, OrganizationSettingsInput } from '../../domain/organizations/organization.js';
import type { CreateOrganizationInput, UpdateOrganizationInput } from '../../domain/organizations/organizations-service.js';
import { bool, jsonObject, objectSchema, str, strList } from './schema-types.js';

/** Stytch's Organization object (`api_organization_v1_Organization` in the contract). */
export interface OrganizationWire {
  organization_id: string;
  organization_name: string;
  organization_logo_url: string;
  organization_slug: string;
  sso_jit_provisioning: string;
  sso_jit_provisioning_allowed_connections: string[];
  sso_active_connections: { connection_id: string; display_name: string; identity_provider: string }[];
  email_allowed_domains: string[];
  email_jit_provisioning: string;
  email_invites: string;
  auth_methods: string;
  allowed_auth_methods: string[];
  mfa_policy: string;
  rbac_email_implicit_role_assignments: { domain: string; role_id: string }[];
  mfa_methods: string;
  allowed_mfa_methods: string[];
  oauth_tenant_jit_provisioning: string;
  claimed_email_domains: string[];
  first_party_connected_apps_allowed_type: string;
  allowed_first_party_connected_apps: string[];
  third_party_connected_apps_allowed_type: string;
  allowed_third_party_connected_apps: string[];
  custom_roles: { role_id: string; description: string; permissions: { resource_id: string; actions: string[] }[] }[];
  trusted_metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  organization_external_id: string;
  sso_default_connection_id: string | null;
  scim_active_connection: null;
  allowed_oauth_tenants: Record<string, string[]>;
}

export function encodeOrganization(organization: Organization): OrganizationWire {
  const settings = organization.settings;
  return {
    organization_id: organization.organizationId,
    organization_name: organization.organizationName,
    organization_logo_url: organization.organizationLogoUrl,
    organization_slug: organization.organizationSlug,
    sso_jit_provisioning: settings.ssoJitProvisioning,
    sso_jit_provisioning_allowed_connections: [...settings.ssoJitProvisioningAllowedConnections],
    // TODO(SSO issue): active connections appear once SSO connections exist.
    sso_active_connections: [],
    email_allowed_domains: [...settings.emailAllowedDomains],
    email_jit_provisioning: settings.emailJitProvisioning,
    email_invites: settings.emailInvites,
    auth_methods: settings.authMethods,
    allowed_auth_methods: [...settings.allowedAuthMethods],
    mfa_policy: settings.mfaPolicy,
    rbac_email_implicit_role_assignments: settings.rbacEmailImplicitRoleAssignments.map((entry) => ({ domain: entry.domain, role_id: entry.roleId })),
    mfa_methods: settings.mfaMethods,
    allowed_mfa_methods: [...settings.allowedMfaMethods],
    oauth_tenant_jit_provisioning: settings.oauthTenantJitProvisioning,
    claimed_email_domains: [...settings.claimedEmailDomains],
    first_party_connected_apps_allowed_type: settings.firstPartyConnectedAppsAllowedType,
    allowed_first_party_connected_apps: [...settings.allowedFirstPartyConnectedApps],
    third_party_connected_apps_allowed_type: settings.thirdPartyConnectedAppsAllowedType,
    allowed_third_party_connected_apps: [...settings.allowedThirdPartyConnectedApps],
    custom_roles: settings.customRoles.map((role) => ({
      role_id: role.roleId,
      description: role.description,
      permissions: role.permissions.map((permission) => ({ resource_id: permission.resourceId, actions: [...permission.actions] })),
    })),
    trusted_metadata: { ...organization.trustedMetadata },
    created_at: organization.createdAt,
    updated_at: organization.updatedAt,
    // Stytch shows unset strings as "" and unset references as null in its documented examples.
    organization_external_id: organization.organizationExternalId ?? '',
    sso_default_connection_id: settings.ssoDefaultConnectionId,
    scim_active_connection: null,
    allowed_oauth_tenants: Object.fromEntries(Object.entries(settings.allowedOauthTenants).map(([key, value]) => [key, [...value]])),
  };
}

const settingsProperties = {
  sso_jit_provisioning: str,
  sso_jit_provisioning_allowed_connections: strList,
  sso_default_connection_id: str,
  email_allowed_domains: strList,
  email_jit_provisioning: str,
  email_invites: str,
  auth_methods: str,
  allowed_auth_methods: strList,
  mfa_policy: str,
  rbac_email_implicit_role_assignments: {
    type: 'array',
    maxItems: 1000,
    items: objectSchema({ domain: str, role_id: str }, ['domain', 'role_id']),
  },
  mfa_methods: str,
  allowed_mfa_methods: strList,
  oauth_tenant_jit_provisioning: str,
  allowed_oauth_tenants: { type: 'object', additionalProperties: strList },
  claimed_email_domains: strList,
  first_party_connected_apps_allowed_type: str,
  allowed_first_party_connected_apps: strList,
  third_party_connected_apps_allowed_type: str,
  allowed_third_party_connected_apps: strList,
};

const identityProperties = {
  organization_name: str,
  organization_slug: str,
  organization_logo_url: str,
  organization_external_id: str,
  trusted_metadata: jsonObject,
};

// organization_name is checked by the service, which answers a missing one with Stytch's organization_name_missing.
export const createOrganizationBody = objectSchema({ ...identityProperties, ...settingsProperties });
export const updateOrganizationBody = objectSchema({ ...identityProperties, ...settingsProperties });
export const searchOrganizationsBody = objectSchema({
  cursor: str,
  limit: { type: ['integer', 'string'] },
  query: objectSchema({ operator: str, operands: { type: 'array', maxItems: 100 } }),
});
export const organizationParams = objectSchema({ organization_id: str }, ['organization_id']);
export { bool };

type SettingsWire = Partial<Record<keyof typeof settingsProperties, unknown>>;
type IdentityWire = Partial<Record<keyof typeof identityProperties, unknown>>;

/** The schema has checked types already; this only renames. */
function decodeSettings(body: SettingsWire): OrganizationSettingsInput {
  return {
    ssoJitProvisioning: body.sso_jit_provisioning as never,
    ssoJitProvisioningAllowedConnections: body.sso_jit_provisioning_allowed_connections as string[] | undefined,
    ssoDefaultConnectionId: body.sso_default_connection_id as string | undefined,
    emailAllowedDomains: body.email_allowed_domains as string[] | undefined,
    emailJitProvisioning: body.email_jit_provisioning as never,
    emailInvites: body.email_invites as never,
    authMethods: body.auth_methods as never,
    allowedAuthMethods: body.allowed_auth_methods as string[] | undefined,
    mfaPolicy: body.mfa_policy as never,
    mfaMethods: body.mfa_methods as never,
    allowedMfaMethods: body.allowed_mfa_methods as string[] | undefined,
    rbacEmailImplicitRoleAssignments: (body.rbac_email_implicit_role_assignments as { domain: string; role_id: string }[] | undefined)?.map(
      (entry) => ({ domain: entry.domain, roleId: entry.role_id }),
    ),
    oauthTenantJitProvisioning: body.oauth_tenant_jit_provisioning as never,
    allowedOauthTenants: body.allowed_oauth_tenants as Record<string, string[]> | undefined,
    claimedEmailDomains: body.claimed_email_domains as string[] | undefined,
    firstPartyConnectedAppsAllowedType: body.first_party_connected_apps_allowed_type as never,
    allowedFirstPartyConnectedApps: body.allowed_first_party_connected_apps as string[] | undefined,
    thirdPartyConnectedAppsAllowedType: body.third_party_connected_apps_allowed_type as never,
    allowedThirdPartyConnectedApps: body.allowed_third_party_connected_apps as string[] | undefined,
  };
}

export function decodeUpdateOrganization(body: SettingsWire & IdentityWire): UpdateOrganizationInput {
  return {
    ...decodeSettings(body),
    organizationName: body.organization_name as string | undefined,
    organizationSlug: body.organization_slug as string | undefined,
    organizationLogoUrl: body.organization_logo_url as string | undefined,
    organizationExternalId: body.organization_external_id as string | undefined,
    trustedMetadata: body.trusted_metadata as Record<string, unknown> | undefined,
  };
}

export function decodeCreateOrganization(body: SettingsWire & IdentityWire): CreateOrganizationInput {
  return { ...decodeUpdateOrganization(body), organizationName: body.organization_name as string | undefined };
}
