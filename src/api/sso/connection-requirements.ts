import type { RequiredPermission } from '../../domain/rbac/member-call.js';
import { isDomainError } from '../../domain/common/domain-error.js';
import type { CallRequirement } from '../member-session-call.js';
import { GIVING_ROLES } from '../member-requirements.js';
import type { ApiServices } from '../operation.js';

/** Stytch's resource for an organization's SSO connections (actions create, get, update, delete). */
export const SSO_RESOURCE = 'stytch.sso';

export type SsoAction = 'create' | 'get' | 'update' | 'delete';

/** Implicit role assignments a call sends for one connection (absent fields send none). */
export interface SentAssignments {
  readonly connectionId?: string | undefined;
  readonly assignments: readonly { readonly role_id: string; readonly group?: string | undefined }[];
}

/**
 * What a call on an organization's SSO connections needs from the member it runs as (member-session
 * headers): the organization must be the session's, and the stytch.sso action granted. A call that
 * adds an implicit role assignment to a connection gives that role to whoever signs in through it,
 * the caller too: that is giving roles, so it also needs `update.settings.roles` on stytch.member
 * (as organizations.update's rbac_email_implicit_role_assignments does). The path's reference (id,
 * slug or external id) runs as the id the decision was made on.
 */
export async function ssoCall(services: Pick<ApiServices, 'organizations'>, organizationReference: string, action: SsoAction, sent?: SentAssignments): Promise<CallRequirement> {
  let organization: Awaited<ReturnType<ApiServices['organizations']['get']>> | undefined;
  try {
    organization = await services.organizations.get(organizationReference);
  } catch (error) {
    if (!(isDomainError(error) && error.kind === 'not_found')) throw error;
  }
  const permissions: RequiredPermission[] = [{ resourceId: SSO_RESOURCE, action }];
  if (sent !== undefined && organization !== undefined) {
    const held = organization.settings.ssoImplicitRoleAssignments.filter((assignment) => sent.connectionId !== undefined && assignment.connectionId === sent.connectionId);
    const adds = sent.assignments.some((entry) => !held.some((assignment) => assignment.roleId === entry.role_id && assignment.group === (entry.group ?? undefined)));
    if (adds) permissions.push(GIVING_ROLES);
  }
  return {
    organizationIds: [organization?.organizationId],
    permissions,
    ...(organization !== undefined && { resolvedParams: { organization_id: organization.organizationId } }),
  };
}
