import type { Organization, OrganizationSettings, SsoActiveConnection, SsoImplicitRoleAssignment } from '../organizations/organization.js';
import type { StorePorts } from '../ports.js';
import type { SsoConnection } from './sso-connection.js';

/**
 * What an organization's settings hold of its SSO connections: the implicit role assignments (the
 * one place they live) and the denormalized `sso_active_connections`. Both are rewritten in the
 * transaction of every connection change, the organization row locked first.
 */

/** The organization's active connections as its object lists them, oldest first. */
export function activeConnectionsOf(connections: readonly SsoConnection[]): SsoActiveConnection[] {
  return connections
    .filter((connection) => connection.status === 'active')
    .map((connection) => ({ connectionId: connection.connectionId, displayName: connection.displayName, identityProvider: connection.identityProvider }));
}

/** The connection's own assignments: those without a group, and those of its groups. */
export function assignmentsOf(organization: Organization, connectionId: string): { connection: SsoImplicitRoleAssignment[]; group: SsoImplicitRoleAssignment[] } {
  const own = organization.settings.ssoImplicitRoleAssignments.filter((assignment) => assignment.connectionId === connectionId);
  return { connection: own.filter((assignment) => assignment.group === undefined), group: own.filter((assignment) => assignment.group !== undefined) };
}

/** The settings with the connection's assignments of each kind sent replaced (a kind not sent is kept). */
export function replaceAssignments(
  settings: OrganizationSettings,
  connectionId: string,
  replacing: { readonly connection?: readonly SsoImplicitRoleAssignment[] | undefined; readonly group?: readonly SsoImplicitRoleAssignment[] | undefined },
): OrganizationSettings {
  if (replacing.connection === undefined && replacing.group === undefined) return settings;
  const kept = settings.ssoImplicitRoleAssignments.filter(
    (assignment) =>
      assignment.connectionId !== connectionId ||
      (assignment.group === undefined ? replacing.connection === undefined : replacing.group === undefined),
  );
  return { ...settings, ssoImplicitRoleAssignments: [...kept, ...(replacing.connection ?? []), ...(replacing.group ?? [])] };
}

/** The settings without any mention of a deleted connection (assignments, JIT allow-list, default). */
export function withoutConnection(settings: OrganizationSettings, connectionId: string): OrganizationSettings {
  return {
    ...settings,
    ssoImplicitRoleAssignments: settings.ssoImplicitRoleAssignments.filter((assignment) => assignment.connectionId !== connectionId),
    ssoJitProvisioningAllowedConnections: settings.ssoJitProvisioningAllowedConnections.filter((id) => id !== connectionId),
    ssoDefaultConnectionId: settings.ssoDefaultConnectionId === connectionId ? null : settings.ssoDefaultConnectionId,
  };
}

/**
 * Writes the organization with `settings` and its active connections as the store holds them now
 * (after this transaction's connection writes), when that changes anything; answers it as stored.
 * The caller holds the organization row's lock (findOrganization with FOR_UPDATE).
 */
export async function saveConnectionSettings(tx: Pick<StorePorts, 'organizations' | 'sso'>, organization: Organization, settings: OrganizationSettings, at: string): Promise<Organization> {
  const next: OrganizationSettings = { ...settings, ssoActiveConnections: activeConnectionsOf(await tx.sso.listConnections(organization.organizationId)) };
  if (JSON.stringify(next) === JSON.stringify(organization.settings)) return organization;
  const updated: Organization = { ...organization, settings: next, updatedAt: at };
  await tx.organizations.updateOrganization(updated);
  return updated;
}
