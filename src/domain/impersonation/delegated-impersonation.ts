import type { DomainError } from '../common/domain-error.js';
import { memberError } from '../members/errors.js';
import { effectiveRoles, STYTCH_ADMIN, type Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import { grantingRoles } from '../rbac/authorize.js';
import { rbacError } from '../rbac/errors.js';
import { grantedPermissions, permissionsBeyond, type PermissionSet } from '../rbac/permission-sets.js';
import type { PolicyResource, PolicyRole } from '../rbac/policy.js';
import { IMPERSONATION_RESOURCE } from '../rbac/understudy-resources.js';
import type { AuthenticationFactor } from '../sessions/session.js';
import { impersonationError } from './errors.js';
import type { DelegatedImpersonation, PermissionMask } from './impersonation.js';
import { maskAllows } from './permission-mask.js';

/**
 * Who calls a mint with member-session headers: a member of an organization impersonating a member
 * of their own organization (delegated impersonation). The impersonator recorded is this member.
 */
export interface DelegatingCaller {
  readonly memberSessionId: string;
  readonly memberId: string;
  readonly emailAddress: string;
  readonly organizationId: string;
  readonly isImpersonated: boolean;
  /** The caller's roles now, as their session holds them. */
  readonly roles: readonly string[];
  /** Their session's factors, which decide which SSO-granted roles it holds (the roles are worked out again in the mint's transaction). */
  readonly authenticationFactors: readonly AuthenticationFactor[];
}

/** What a delegated mint is judged on, read together (before the mint's transaction, and again in it). */
export interface DelegatedMintFacts {
  readonly caller: Pick<DelegatingCaller, 'memberId' | 'emailAddress' | 'organizationId' | 'roles'>;
  /** The organization the mint names; undefined when it names none. */
  readonly organization: Organization | undefined;
  /** The member the mint names in it; undefined when none. */
  readonly target: Member | undefined;
  /** The organization's `delegated_impersonation`. */
  readonly delegated: DelegatedImpersonation;
  /** The role definitions of the caller's organization (the project's roles, then its own) and the project's resources. */
  readonly roles: readonly PolicyRole[];
  readonly resources: readonly PolicyResource[];
  /** The mint's permission mask (restricted impersonation): only what it leaves of the member's permissions is compared. */
  readonly mask?: PermissionMask | null | undefined;
}

/** The permission a member's roles must grant to impersonate in their own organization. */
export const DELEGATED_ACTION = { resourceId: IMPERSONATION_RESOURCE, action: 'create' } as const;

/** Every member's own member object (`stytch_member` grants `*` on it), and the resource that acts on any member's. */
const SELF_RESOURCE = 'stytch.self';
const MEMBER_RESOURCE = 'stytch.member';

/**
 * Whether this member may impersonate that one (docs/impersonation.md, "Delegated impersonation"):
 * only in their own organization (`session_authorization_tenancy_error`, also for an organization
 * that does not exist), only with `understudy.impersonation:create` (`session_authorization_error`),
 * only while the organization's policy allows it, never themselves, an admin only under
 * `members_and_admins`, and only a member whose every permission the mask leaves the caller's roles
 * grant too, a `stytch.self` one as the same `stytch.member` one (`delegated_impersonation_not_allowed`).
 * The target's roles are all they hold, SSO-granted ones included, whatever session they would sign
 * in with. Returns the impersonator (the caller), or the refusal.
 */
export function judgeDelegatedMint(facts: DelegatedMintFacts): { readonly impersonatorId: string; readonly emailAddress: string } | DomainError {
  const { caller, organization, target } = facts;
  if (organization === undefined || organization.organizationId !== caller.organizationId) return rbacError('session_authorization_tenancy_error');
  if (grantingRoles(facts.roles, caller.roles, DELEGATED_ACTION.resourceId, DELEGATED_ACTION.action).length === 0) {
    return rbacError('session_authorization_error', `The member session's roles do not grant ${DELEGATED_ACTION.resourceId}:${DELEGATED_ACTION.action}.`);
  }
  if (facts.delegated === 'off') return notAllowed("The organization's impersonation policy does not let its members impersonate each other (delegated_impersonation is off).");
  if (target === undefined || target.organizationId !== organization.organizationId) return memberError('member_not_found');
  if (target.memberId === caller.memberId) return notAllowed('A member cannot impersonate themselves.');
  const targetRoles = effectiveRoles(target, organization).map((role) => role.roleId);
  if (isDelegationAdmin(targetRoles, facts.roles) && facts.delegated !== 'members_and_admins') {
    return notAllowed("The member is an admin (stytch_admin, or allowed to impersonate), and the organization's impersonation policy lets only members who are not be impersonated (delegated_impersonation is members).");
  }
  const beyond = permissionsBeyond(
    overTheirRecord(grantedPermissions(facts.roles, targetRoles, facts.resources), facts.mask ?? null),
    grantedPermissions(facts.roles, caller.roles, facts.resources),
  );
  if (beyond.length > 0) {
    const named = beyond.slice(0, 5).join(', ') + (beyond.length > 5 ? ` and ${beyond.length - 5} more` : '');
    return notAllowed(`The member's roles grant what the caller's do not (their stytch.self actions count as stytch.member ones over them): ${named}.`);
  }
  return { impersonatorId: caller.memberId, emailAddress: caller.emailAddress };
}

/**
 * Whether a member with these roles counts as an admin for delegated impersonation: holds
 * `stytch_admin`, or roles that grant `understudy.impersonation:create` (`definitions`: the project's
 * roles, then the organization's).
 */
export function isDelegationAdmin(heldRoles: readonly string[], definitions: readonly PolicyRole[]): boolean {
  return heldRoles.includes(STYTCH_ADMIN) || grantingRoles(definitions, heldRoles, DELEGATED_ACTION.resourceId, DELEGATED_ACTION.action).length > 0;
}

/**
 * What impersonating the member gives power over, as the caller's roles must grant it: each permission
 * the member's roles grant that the mask leaves (all of them without a mask), with a `stytch.self`
 * action turned into the same `stytch.member` action. `stytch.self` acts on the session's own member,
 * and an impersonated session's own member is the one impersonated: holding their session, the caller
 * acts on their record, which only `stytch.member` lets the caller do themselves (every `stytch.self`
 * action is a `stytch.member` action too).
 */
function overTheirRecord(granted: PermissionSet, mask: PermissionMask | null): PermissionSet {
  const over = new Map<string, Set<string>>();
  for (const [resourceId, actions] of granted) {
    const asCaller = resourceId === SELF_RESOURCE ? MEMBER_RESOURCE : resourceId;
    for (const action of actions) {
      if (!maskAllows(mask, resourceId, action)) continue;
      const held = over.get(asCaller) ?? new Set<string>();
      held.add(action);
      over.set(asCaller, held);
    }
  }
  return over;
}

function notAllowed(message: string): DomainError {
  return impersonationError('delegated_impersonation_not_allowed', message);
}
