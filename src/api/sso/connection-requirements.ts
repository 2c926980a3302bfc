import type { RequiredPermission } from '../../domain/rbac/member-call.js';
import { isDomainError } from '../../domain/common/domain-error.js';
import type { OperationContext } from '../../domain/common/operation-context.js';
import { rbacError } from '../../domain/rbac/errors.js';
import { type ChangeLimits, LENDING_REFUSED, type RoleGivingChange, rolesGivenBy } from '../../domain/sso/connections-trust.js';
import type { CallRequirement } from '../member-session-call.js';
import { GIVING_ROLES } from '../member-requirements.js';
import type { ApiServices } from '../operation.js';

/** Stytch's resource for an organization's SSO connections (actions create, get, update, delete). */
export const SSO_RESOURCE = 'stytch.sso';

export type SsoAction = 'create' | 'get' | 'update' | 'delete';

/** A change of one connection a call makes, as the service will take it (the handler's decoded values). */
export interface ConnectionChangeCall {
  /** The call's context: the handler asks `changeLimitsOf` with the same one. */
  readonly context: OperationContext;
  readonly connectionId: string;
  readonly change: RoleGivingChange;
}

/** Member-session calls whose authorization required (so was granted) role giving. */
const GRANTED_ROLE_GIVING = new WeakSet<OperationContext>();

/**
 * What a call on an organization's SSO connections needs from the member it runs as (member-session
 * headers): the organization must be the session's, and the stytch.sso action granted. A change
 * that gives roles (connections-trust.ts: a change of what the connection trusts, which lets its
 * author sign in as any member, or an implicit role assignment the connection does not hold) also
 * needs `update.settings.roles` on stytch.member (as organizations.update's
 * rbac_email_implicit_role_assignments does). The comparison is made here on the organization and
 * connection as read now, outside the update's transaction; a call it finds giving nothing is
 * compared again in the transaction, on the locked rows (`changeLimitsOf`), so an assignment
 * removed meanwhile cannot be put back by someone who may not give it. The path's reference (id,
 * slug or external id) runs as the id the decision was made on.
 */
export async function ssoCall(
  services: Pick<ApiServices, 'organizations' | 'ssoConnections'>,
  organizationReference: string,
  action: SsoAction,
  changing?: ConnectionChangeCall,
): Promise<CallRequirement> {
  let organization: Awaited<ReturnType<ApiServices['organizations']['get']>> | undefined;
  try {
    organization = await services.organizations.get(organizationReference);
  } catch (error) {
    if (!(isDomainError(error) && error.kind === 'not_found')) throw error;
  }
  const permissions: RequiredPermission[] = [{ resourceId: SSO_RESOURCE, action }];
  if (changing !== undefined && organization !== undefined) {
    const held = await services.ssoConnections.heldBy(organization, changing.connectionId);
    if (rolesGivenBy(changing.change, held).length > 0) {
      permissions.push(GIVING_ROLES);
      GRANTED_ROLE_GIVING.add(changing.context);
    }
  }
  return {
    organizationIds: [organization?.organizationId],
    permissions,
    ...(organization !== undefined && { resolvedParams: { organization_id: organization.organizationId } }),
  };
}

/**
 * What the service may let the call change: the project's backend anything; a member session gives
 * roles only when its authorization required role giving (and so found it granted). A context the
 * authorization never saw counts as not granted.
 */
export function changeLimitsOf(context: OperationContext): ChangeLimits {
  return { mayGiveRoles: context.actor.type !== 'member_session' || GRANTED_ROLE_GIVING.has(context) };
}

/**
 * sso.external.createConnection with member-session headers: refused whatever the roles. Lending
 * one organization's connection to another makes that IdP sign people into the borrower: which
 * organizations trust each other is the project's backend's decision, not a member's of either.
 */
export async function lendingCall(): Promise<CallRequirement> {
  throw rbacError('session_authorization_error', LENDING_REFUSED);
}
