import { rbacError } from './errors.js';
import { ANY_ACTION, type PolicyRole } from './policy.js';

export interface AuthorizationCheck {
  readonly organizationId: string;
  readonly resourceId: string;
  readonly action: string;
}

export interface AuthorizationVerdict {
  readonly authorized: true;
  readonly grantingRoles: string[];
}

/**
 * The roles among `held` whose permissions grant `action` (or `*`) on `resourceId`, in the order
 * of `definitions` (the project's roles, then the organization's). The SDK's local check uses the
 * same rule, so local and remote answers agree: a role that is held but defined nowhere grants nothing.
 */
export function grantingRoles(definitions: readonly PolicyRole[], held: readonly string[], resourceId: string, action: string): string[] {
  const heldSet = new Set(held);
  return definitions
    .filter((role) => heldSet.has(role.roleId))
    .filter((role) =>
      role.permissions.some((permission) => permission.resourceId === resourceId && (permission.actions.includes(action) || permission.actions.includes(ANY_ACTION))),
    )
    .map((role) => role.roleId);
}

/**
 * What a session may do beyond its roles' say: an impersonated session's permission mask (restricted
 * impersonation). An action it does not allow is refused as one no role grants. Undefined: no restriction.
 */
export type Restriction = (resourceId: string, action: string) => boolean;

/**
 * `authorization_check` on sessions.authenticate: another organization is a tenancy error;
 * otherwise the check passes when some session role grants the action (or `*`) on the resource
 * and the session's restriction (if any) allows it, and the verdict names every such role.
 */
export function authorize(
  check: AuthorizationCheck,
  session: { organizationId: string; roles: readonly string[] },
  definitions: readonly PolicyRole[],
  restriction?: Restriction,
): AuthorizationVerdict {
  // The id exactly, as the SDK's local check compares it, so local and remote checks agree.
  if (check.organizationId !== session.organizationId) throw rbacError('session_authorization_tenancy_error');
  const granting = grantingRoles(definitions, session.roles, check.resourceId, check.action);
  if (granting.length === 0) throw rbacError('session_authorization_error');
  if (restriction !== undefined && !restriction(check.resourceId, check.action)) {
    throw rbacError('session_authorization_error', "The member session is not authorized for this action: the impersonated session's permissions do not include it.");
  }
  return { authorized: true, grantingRoles: granting };
}
