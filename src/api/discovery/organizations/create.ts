import type { CreateOrganizationViaDiscoveryInput } from '../../../domain/discovery/discovery-exchange.js';
import type { RequestBodyOf } from '../../operation.js';
import { stytchOperation } from '../../operation.js';
import { encodeExchangeOutcome } from '../../sessions/encode-auth-outcome.js';

/**
 * discovery.organizations.create: a new organization with the intermediate session's address as its
 * first member (stytch_admin) and their session, in one transaction. The organization's fields are
 * organizations.create's, checked the same way; name and slug default from the address.
 */
export default stytchOperation({
  operationId: 'api_discovery_v1_discovery_organizations_Create',
  async handle({ body, context }, { discoveryExchange }) {
    return encodeExchangeOutcome(await discoveryExchange.createOrganization(context, decode(body)));
  },
});

/** Only renames, as organizations.create's decoder: the service checks every value with organizations.create's checks. */
function decode(body: RequestBodyOf<'api_discovery_v1_discovery_organizations_Create'>): CreateOrganizationViaDiscoveryInput {
  return {
    intermediateSessionToken: body.intermediate_session_token,
    sessionDurationMinutes: body.session_duration_minutes,
    sessionCustomClaims: body.session_custom_claims,
    organizationName: body.organization_name,
    organizationSlug: body.organization_slug,
    organizationLogoUrl: body.organization_logo_url,
    organizationExternalId: body.organization_external_id,
    trustedMetadata: body.trusted_metadata,
    ssoJitProvisioning: body.sso_jit_provisioning,
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
    // Typed loosely by the contract; the service refuses anything but lists of tenant ids per provider.
    allowedOauthTenants: body.allowed_oauth_tenants as Record<string, readonly string[]> | undefined,
    firstPartyConnectedAppsAllowedType: body.first_party_connected_apps_allowed_type,
    allowedFirstPartyConnectedApps: body.allowed_first_party_connected_apps,
    thirdPartyConnectedAppsAllowedType: body.third_party_connected_apps_allowed_type,
    allowedThirdPartyConnectedApps: body.allowed_third_party_connected_apps,
  };
}
