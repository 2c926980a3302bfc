import { ANY_ACTION, type PolicyResource, type PolicyRole } from './policy.js';

/** What a set of roles grants: each resource with the actions granted on it. */
export type PermissionSet = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * Every action the `held` roles grant, by resource, looking the roles up in `definitions` (the
 * project's roles, then the organization's; a role defined nowhere grants nothing, as in
 * grantingRoles). `*` stands for every action the resource has in `resources` now.
 */
export function grantedPermissions(definitions: readonly PolicyRole[], held: readonly string[], resources: readonly PolicyResource[]): PermissionSet {
  const heldSet = new Set(held);
  const granted = new Map<string, Set<string>>();
  for (const role of definitions) {
    if (!heldSet.has(role.roleId)) continue;
    for (const permission of role.permissions) {
      const actions = granted.get(permission.resourceId) ?? new Set<string>();
      const named = permission.actions.includes(ANY_ACTION)
        ? (resources.find((resource) => resource.resourceId === permission.resourceId)?.actions ?? [])
        : permission.actions;
      for (const action of named) actions.add(action);
      granted.set(permission.resourceId, actions);
    }
  }
  return granted;
}

/** The `resource:action` pairs `needed` grants that `held` does not (empty: `needed` is within `held`). */
export function permissionsBeyond(needed: PermissionSet, held: PermissionSet): string[] {
  const beyond: string[] = [];
  for (const [resourceId, actions] of needed) {
    const heldActions = held.get(resourceId);
    for (const action of actions) if (heldActions?.has(action) !== true) beyond.push(`${resourceId}:${action}`);
  }
  return beyond;
}
