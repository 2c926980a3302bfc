import { effectiveRoles, ssoConnectionOf, type Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import type { AuthenticationFactor } from '../sessions/session.js';

/**
 * How an SSO sign-in's factor is shaped, as Stytch's are: type `sso`, delivery method `sso_saml` or
 * `sso_oidc`, and a `saml_sso_factor` or `oidc_sso_factor` sub-object {id, provider_id, external_id}
 * where `id` is the member's registration with the connection, `provider_id` the connection's id and
 * `external_id` the subject the IdP asserted. The connection id is what SSO-granted roles are matched on.
 */
export const SSO_FACTOR_TYPE = 'sso';
export const SSO_FACTOR_DETAILS = ['saml_sso_factor', 'oidc_sso_factor'] as const;
export const SSO_FACTOR_CONNECTION_FIELD = 'provider_id';

/** The SSO connections the session signed in through (from its SSO factors). */
export function ssoConnectionsOf(factors: readonly AuthenticationFactor[]): Set<string> {
  const connections = new Set<string>();
  for (const factor of factors) {
    if (factor.type !== SSO_FACTOR_TYPE || factor.detail === undefined) continue;
    if (!(SSO_FACTOR_DETAILS as readonly string[]).includes(factor.detail.name)) continue;
    const connectionId = factor.detail.fields[SSO_FACTOR_CONNECTION_FIELD];
    if (connectionId !== undefined && connectionId !== '') connections.add(connectionId);
  }
  return connections;
}

/**
 * The role ids a member's session holds now: every role the member holds (effectiveRoles), worked
 * out afresh from the member and the organization, so a change of roles applies to live sessions at
 * their next use. `factors` are the session's: a role whose only sources are SSO connections (or
 * groups of one) counts only in a session holding an SSO factor of one of those connections; a role
 * with a direct or email-domain source counts in every session.
 */
export function sessionRoleIds(member: Member, organization: Organization, factors: readonly AuthenticationFactor[]): string[] {
  const connections = ssoConnectionsOf(factors);
  return effectiveRoles(member, organization)
    .filter((role) =>
      role.sources.some((source) => {
        const connectionId = ssoConnectionOf(source);
        return connectionId === undefined || connections.has(connectionId);
      }),
    )
    .map((role) => role.roleId);
}
