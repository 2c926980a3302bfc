import { rbacError } from './errors.js';
import { grantingRoles, type Restriction } from './authorize.js';
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
 * one counting only when the call acts on the caller themself (`session_authorization_error`). With a
 * `restriction` (an impersonated session's permission mask) a permission counts only where it allows
 * the very resource and action that grant it.
 */
export function authorizeMemberCall(requirement: MemberCallRequirement, caller: MemberCaller, definitions: readonly PolicyRole[], restriction?: Restriction): void {
  if (requirement.organizationIds.length === 0 || requirement.organizationIds.some((organizationId) => organizationId !== caller.organizationId)) {
    throw rbacError('session_authorization_tenancy_error');
  }
  const forbidden = requirement.forbiddenFields ?? [];
  if (forbidden.length > 0) {
    throw rbacError('session_authorization_error', `${forbidden.join(', ')} cannot be changed by a call made with member-session headers.`);
  }
  const isSelf = requirement.targetMemberId !== undefined && requirement.targetMemberId === caller.memberId;
  const granted = (resourceId: string, action: string, allows: Restriction) => allows(resourceId, action) && grantingRoles(definitions, caller.roles, resourceId, action).length > 0;
  const missingUnder = (allows: Restriction) =>
    requirement.permissions.filter((permission) => {
      if (granted(permission.resourceId, permission.action, allows)) return false;
      return !(isSelf && permission.selfAction !== undefined && granted('stytch.self', permission.selfAction, allows));
    });
  const missing = missingUnder(() => true);
  if (missing.length > 0) {
    const named = missing.map((permission) => `${permission.resourceId}:${permission.action}`).join(', ');
    throw rbacError('session_authorization_error', `The member session's roles do not grant ${named}.`);
  }
  const masked = restriction === undefined ? [] : missingUnder(restriction);
  if (masked.length > 0) {
    const named = masked.map((permission) => `${permission.resourceId}:${permission.action}`).join(', ');
    throw rbacError('session_authorization_error', `The impersonated session's permissions do not include ${named}.`);
  }
}
