import { memberError } from '../members/errors.js';
import { DEFAULT_POLICY, STYTCH_MEMBER } from '../rbac/policy.js';
import type { RbacStore } from '../rbac/rbac-store.js';
import type { Organization } from './organization.js';

/**
 * Every role an organization's email-domain implicit assignments name must exist for it: a role of
 * the project's policy or one of the organization's custom roles. `stytch_member` is refused as
 * members.update refuses it: every member holds it already. The same codes as members' `roles`
 * (an implicit assignment gives a role exactly as a direct one does).
 *
 * The policy is read through `ports` (the caller's transaction), not a cached copy: a role removed
 * from the project's policy a moment ago must not be named by a new assignment.
 */
export async function checkImplicitRoleIds(ports: { readonly rbac: Pick<RbacStore, 'latestPolicy' | 'lockPolicy'> }, organization: Organization): Promise<void> {
  const assignments = organization.settings.rbacEmailImplicitRoleAssignments;
  if (assignments.length === 0) return;
  // The shared policy lock (RbacStore.lockPolicy): a policy change removing one of these roles waits for this transaction, or this for it.
  await ports.rbac.lockPolicy('shared');
  const project = (await ports.rbac.latestPolicy())?.policy ?? DEFAULT_POLICY;
  const known = new Set([...project.roles, ...organization.settings.customRoles].map((role) => role.roleId));
  for (const assignment of assignments) {
    if (assignment.roleId === STYTCH_MEMBER) {
      throw memberError('cannot_assign_default_rbac_role_id', 'rbac_email_implicit_role_assignments cannot name stytch_member, which every member holds.');
    }
    if (!known.has(assignment.roleId)) {
      throw memberError(
        'invalid_rbac_role_id',
        `rbac_email_implicit_role_assignments: role "${assignment.roleId}" is neither a role of the project's policy nor a custom role of the organization.`,
      );
    }
  }
}

/**
 * The roles of SSO implicit role assignments (an SSO connection's, or its groups'), checked as the
 * email-domain ones are: each must be a role of the project's policy or one of the organization's
 * custom roles, never `stytch_member`. `field` names the request field in the refusal.
 */
export async function checkSsoImplicitRoleIds(
  ports: { readonly rbac: Pick<RbacStore, 'latestPolicy' | 'lockPolicy'> },
  organization: Organization,
  roleIds: readonly string[],
  field: string,
): Promise<void> {
  if (roleIds.length === 0) return;
  await ports.rbac.lockPolicy('shared');
  const project = (await ports.rbac.latestPolicy())?.policy ?? DEFAULT_POLICY;
  const known = new Set([...project.roles, ...organization.settings.customRoles].map((role) => role.roleId));
  for (const roleId of roleIds) {
    if (roleId === STYTCH_MEMBER) throw memberError('cannot_assign_default_rbac_role_id', `${field} cannot name stytch_member, which every member holds.`);
    if (!known.has(roleId)) {
      throw memberError('invalid_rbac_role_id', `${field}: role ${JSON.stringify(roleId)} is neither a role of the project's policy nor a custom role of the organization.`);
    }
  }
}
