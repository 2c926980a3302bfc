import { effectiveRoles, type Member } from '../members/member.js';
import type { EmailImplicitRoleAssignment, Organization } from '../organizations/organization.js';
import { ANY_ACTION } from './policy.js';

/**
 * What a change would give someone, for the rule that nobody hands out more than they hold
 * (member-session calls): a check of the change alone would let a member who may edit one
 * setting turn it into any role.
 */

/** Roles the member would gain with another address (email-domain implicit assignments), none when the address gives nothing new. */
export function rolesGainedByAddress(member: Member, organization: Organization, emailAddress: string): string[] {
  const held = new Set(effectiveRoles(member, organization).map((role) => role.roleId));
  return effectiveRoles({ ...member, emailAddress }, organization)
    .map((role) => role.roleId)
    .filter((roleId) => !held.has(roleId));
}

/** Implicit assignments (domain → role) in `after` that `before` did not have. */
export function addedImplicitAssignments(before: readonly EmailImplicitRoleAssignment[], after: readonly EmailImplicitRoleAssignment[]): EmailImplicitRoleAssignment[] {
  return after.filter((assignment) => !before.some((old) => old.domain === assignment.domain && old.roleId === assignment.roleId));
}

/** A role's permissions in wire form, as setOrgPolicy receives them. */
interface GrantingRole {
  readonly role_id: string;
  readonly permissions: readonly { readonly resource_id: string; readonly actions: readonly string[] }[];
}

/**
 * The (resource, action) pairs roles would grant that the same role ids did not grant before
 * (a role that had `*` on a resource grants each of its actions already), once each.
 */
export function gainedPermissions(
  before: readonly { readonly roleId: string; readonly permissions: readonly { readonly resourceId: string; readonly actions: readonly string[] }[] }[],
  after: readonly GrantingRole[],
): { resourceId: string; action: string }[] {
  const previous = new Map(before.map((role) => [role.roleId, role.permissions]));
  const gained = new Map<string, { resourceId: string; action: string }>();
  for (const role of after) {
    const had = previous.get(role.role_id) ?? [];
    for (const permission of role.permissions) {
      for (const action of permission.actions) {
        const held = had.some((old) => old.resourceId === permission.resource_id && (old.actions.includes(action) || old.actions.includes(ANY_ACTION)));
        if (!held) gained.set(JSON.stringify([permission.resource_id, action]), { resourceId: permission.resource_id, action });
      }
    }
  }
  return [...gained.values()];
}
