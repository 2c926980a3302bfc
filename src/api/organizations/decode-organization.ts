import type { CreateOrganizationInput, UpdateOrganizationInput } from '../../domain/organizations/organizations-service.js';
import type { RequestBodyOf } from '../operation.js';

/**
 * The organizations.update body as the service's input. Only renames: the schema has checked the
 * JSON types, and the service checks every value (an unknown mfa_policy is its own Stytch error).
 * The order of the keys is the order the audit trail lists changed fields in.
 */
export function decodeUpdateOrganization(body: RequestBodyOf<'api_organization_v1_Update'>): UpdateOrganizationInput {
  return {
    ssoJitProvisioning: body.sso_jit_provisioning,
    ssoJitProvisioningAllowedConnections: body.sso_jit_provisioning_allowed_connections,
    ssoDefaultConnectionId: body.sso_default_connection_id,
    emailAllowedDomains: body.email_allowed_domains,
    emailJitProvisioning: body.email_jit_provisioning,
    emailInvites: body.email_invites,
    authMethods: body.auth_methods,
    allowedAuthMethods: body.allowed_auth_methods,
    mfaPolicy: body.mfa_policy,
    mfaMethods: body.mfa_methods,
    allowedMfaMethods: body.allowed_mfa_methods,
    rbacEmailImplicitRoleAssignments: body.rbac_email_implicit_role_assignments?.map((entry) => ({ domain: entry.domain, roleId: entry.role_id })),
    oauthTenantJitProvisioning: body.oauth_tenant_jit_provisioning,
    allowedOauthTenants: body.allowed_oauth_tenants,
    claimedEmailDomains: body.claimed_email_domains,
    firstPartyConnectedAppsAllowedType: body.first_party_connected_apps_allowed_type,
    allowedFirstPartyConnectedApps: body.allowed_first_party_connected_apps,
    thirdPartyConnectedAppsAllowedType: body.third_party_connected_apps_allowed_type,
    allowedThirdPartyConnectedApps: body.allowed_third_party_connected_apps,
    organizationName: body.organization_name,
    organizationSlug: body.organization_slug,
    organizationLogoUrl: body.organization_logo_url,
    organizationExternalId: body.organization_external_id,
    trustedMetadata: body.trusted_metadata,
  };
}

/** The organizations.create body: the same fields; a missing organization_name is the service's to answer (organization_name_missing). */
export function decodeCreateOrganization(body: RequestBodyOf<'api_organization_v1_Create'>): CreateOrganizationInput {
  return { ...decodeUpdateOrganization(body), organizationName: body.organization_name };
}
