import type { Organization } from '../../domain/organizations/organization.js';
import { shareJson } from './answer-json.js';
import { deepFreeze } from '../../platform/deep-freeze.js';

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

/** Wire organizations of shared (frozen) organization versions, encoded once each. */
const ENCODED = new WeakMap<Organization, OrganizationWire>();

/** Organizations the store shares between requests (frozen, row-memo.ts) are encoded once, their JSON text reused (answer-json.ts). */
export function encodeOrganization(organization: Organization): OrganizationWire {
  if (!Object.isFrozen(organization)) return toWire(organization);
  let wire = ENCODED.get(organization);
  if (wire === undefined) {
    wire = shareJson(deepFreeze(toWire(organization)));
    ENCODED.set(organization, wire);
  }
  return wire;
}

function toWire(organization: Organization): OrganizationWire {
  const settings = organization.settings;
  return {
    organization_id: organization.organizationId,
    organization_name: organization.organizationName,
    organization_logo_url: organization.organizationLogoUrl,
    organization_slug: organization.organizationSlug,
    sso_jit_provisioning: settings.ssoJitProvisioning,
    sso_jit_provisioning_allowed_connections: [...settings.ssoJitProvisioningAllowedConnections],
    sso_active_connections: settings.ssoActiveConnections.map((connection) => ({
      connection_id: connection.connectionId,
      display_name: connection.displayName,
      identity_provider: connection.identityProvider,
    })),
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
