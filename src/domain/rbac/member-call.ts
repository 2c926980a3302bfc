import { rbacError } from './errors.js';
import { grantingRoles } from './authorize.js';
import type { PolicyRole } from './policy.js';

/** One permission an admin call needs from the member it runs as. */
export interface RequiredPermission {
  readonly resourceId: string;
  readonly action: string;
  /**
   * The `stytch.self` action that grants the same when the call acts on the caller's own member
   * object (`targetMemberId` is the caller); absent when only `resourceId` can grant it.
   */
  readonly selfAction?: string | undefined;
}

/**
 * What an admin endpoint called with member-session headers needs, worked out from its decoded
 * request by the operation's module: the organization it acts on, the member it acts on (if one),
 * every permission (all must be granted), and fields no member session may change.
 */
export interface MemberCallRequirement {
  /** The organization the call acts on, resolved to its id; undefined when the reference names none. */
  readonly organizationIds: readonly (string | undefined)[];
  readonly targetMemberId?: string | undefined;
  readonly permissions: readonly RequiredPermission[];
  /** Request fields that member sessions may never set (trusted_metadata): refused whatever the roles. */
  readonly forbiddenFields?: readonly string[];
}

/** The member a call runs as: their organization, their id and the role ids their session holds now. */
export interface MemberCaller {
  readonly organizationId: string;
  readonly memberId: string;
  readonly roles: readonly string[];
}

/**
 * Decides a member-session call: never across organizations (`session_authorization_tenancy_error`),
 * never a forbidden field, and every permission granted by one of the caller's roles, a `stytch.self`
 * one counting only when the call acts on the caller themself (`session_authorization_error`).
 */
export function authorizeMemberCall(requirement: MemberCallRequirement, caller: MemberCaller, definitions: readonly PolicyRole[]): void {
  if (requirement.organizationIds.length === 0 || requirement.organizationIds.some((organizationId) => organizationId !== caller.organizationId)) {
    throw rbacError('session_authorization_tenancy_error');
  }
  const forbidden = requirement.forbiddenFields ?? [];
  if (forbidden.length > 0) {
    throw rbacError('session_authorization_error', `${forbidden.join(', ')} cannot be changed by a call made with member-session headers.`);
  }
  const isSelf = requirement.targetMemberId !== undefined && requirement.targetMemberId === caller.memberId;
  const missing = requirement.permissions.filter((permission) => {
    if (grantingRoles(definitions, caller.roles, permission.resourceId, permission.action).length > 0) return false;
    return !(isSelf && permission.selfAction !== undefined && grantingRoles(definitions, caller.roles, 'stytch.self', permission.selfAction).length > 0);
  });
  if (missing.length > 0) {
    const named = missing.map((permission) => `${permission.resourceId}:${permission.action}`).join(', ');
    throw rbacError('session_authorization_error', `The member session's roles do not grant ${named}.`);
  }
}
