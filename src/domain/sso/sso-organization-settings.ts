import type { Organization, OrganizationSettingsInput } from '../organizations/organization.js';
import type { StorePorts } from '../ports.js';
import { ssoError } from './errors.js';

type SsoSettingsInput = Pick<OrganizationSettingsInput, 'ssoJitProvisioning' | 'ssoJitProvisioningAllowedConnections' | 'ssoDefaultConnectionId'>;

/**
 * The SSO settings organizations.create and organizations.update were sent, checked against the
 * organization's connections inside the caller's transaction, after the organization row is locked:
 * a connection deleted concurrently (which locks that row first too) cannot slip in between. Only
 * what was sent is checked, so a deletion that empties RESTRICTED's list (which leaves SSO sign-up
 * closed) does not block unrelated updates later. `organization` is the merged result.
 */
export async function checkSsoOrganizationSettings(tx: Pick<StorePorts, 'sso'>, organization: Organization, input: SsoSettingsInput): Promise<void> {
  const sentDefault = input.ssoDefaultConnectionId !== undefined;
  const sentAllowed = input.ssoJitProvisioningAllowedConnections !== undefined;
  if (!sentDefault && !sentAllowed && input.ssoJitProvisioning === undefined) return;
  const settings = organization.settings;
  const own = new Set((await tx.sso.listConnections(organization.organizationId)).map((connection) => connection.connectionId));
  if (sentDefault && settings.ssoDefaultConnectionId !== null && !own.has(settings.ssoDefaultConnectionId)) {
    throw ssoError('invalid_sso_default_connection_id');
  }
  if (sentAllowed) {
    const unknown = settings.ssoJitProvisioningAllowedConnections.filter((connectionId) => !own.has(connectionId));
    if (unknown.length > 0) {
      throw ssoError('invalid_connection_for_jit_provisioning', `sso_jit_provisioning_allowed_connections may list only the organization's SSO connections; ${JSON.stringify(unknown[0])} is not one.`);
    }
  }
  if ((sentAllowed || input.ssoJitProvisioning !== undefined) && settings.ssoJitProvisioning === 'RESTRICTED' && settings.ssoJitProvisioningAllowedConnections.length === 0) {
    throw ssoError('invalid_restricted_sso_setting');
  }
}
