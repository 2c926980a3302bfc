import type { Organization } from '../organizations/organization.js';
import { rbacError } from './errors.js';
import { DEFAULT_POLICY, type PolicyRole } from './policy.js';

export interface AuthorizationCheck {
  readonly organizationId: string;
  readonly resourceId: string;
  readonly action: string;
}

export interface AuthorizationVerdict {
  readonly authorized: true;
  readonly grantingRoles: string[];
}

/** The project policy's roles plus the organization's custom roles, as the SDK's local check sees them. */
export function rolesOf(organization: Organization): PolicyRole[] {
  return [...DEFAULT_POLICY.roles, ...organization.settings.customRoles];
}

/**
 * `authorization_check` on sessions.authenticate: another organization is a
 * tenancy error; otherwise the check passes when some session role grants the action (or `*`)
 * on the resource, and the verdict names every such role.
 */
export function authorize(check: AuthorizationCheck, session: { organizationId: string; roles: readonly string[] }, organization: Organization): AuthorizationVerdict {
  // The id exactly, as the SDK's local check compares it, so local and remote checks agree.
  if (check.organizationId !== session.organizationId) {
    throw rbacError('session_authorization_tenancy_error');
  }
  const held = new Set(session.roles);
  const grantingRoles = rolesOf(organization)
    .filter((role) => held.has(role.roleId))
    .filter((role) =>
      role.permissions.some(
        (permission) => permission.resourceId === check.resourceId && (permission.actions.includes(check.action) || permission.actions.includes('*')),
      ),
    )
    .map((role) => role.roleId);
  if (grantingRoles.length === 0) throw rbacError('session_authorization_error');
  return { authorized: true, grantingRoles };
}
