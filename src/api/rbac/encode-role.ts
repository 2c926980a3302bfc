import type { PolicyRole } from '../../domain/rbac/policy.js';

/** A role as both RBAC policies show it (the project's and an organization's custom roles). */
export function encodeRole(role: PolicyRole) {
  return {
    role_id: role.roleId,
    description: role.description,
    permissions: role.permissions.map((permission) => ({ resource_id: permission.resourceId, actions: [...permission.actions] })),
  };
}
