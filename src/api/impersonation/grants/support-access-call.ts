import { refuseImpersonatedConsent } from '../../../domain/impersonation/access-grants-service.js';
import type { OperationContext } from '../../../domain/common/operation-context.js';
import type { RequiredPermission } from '../../../domain/rbac/member-call.js';
import { SUPPORT_ACCESS_RESOURCE } from '../../../domain/rbac/understudy-resources.js';
import { callerOf, organizationIdOf } from '../../member-requirements.js';
import type { CallRequirement } from '../../member-session-call.js';
import type { ApiServices } from '../../operation.js';

/**
 * What the support-access operations (policies, access grants) need from the member a call made
 * with member-session headers runs as: an action on `understudy.support-access` in their own
 * organization. A change (`consent`) is refused outright to an impersonated session: support acting
 * as the customer's admin must never consent for the customer.
 */
export type SupportAccessAction = 'grant' | 'revoke' | 'read' | 'update.settings';

export function supportAccessPermission(action: SupportAccessAction): RequiredPermission {
  return { resourceId: SUPPORT_ACCESS_RESOURCE, action };
}

/**
 * A call on the organization `organizationReference` names (the caller's own when undefined), run on
 * its id (`resolvedParams`), so a slug renamed between the check and the write cannot redirect it.
 */
export async function supportAccessCall(
  services: Pick<ApiServices, 'organizations'>,
  context: OperationContext,
  organizationReference: string | undefined,
  action: SupportAccessAction,
  options: { readonly consent?: boolean; readonly forbiddenFields?: readonly string[] } = {},
): Promise<CallRequirement> {
  if (options.consent === true) refuseImpersonatedConsent(context);
  const organizationId = organizationReference === undefined ? callerOf(context).organizationId : await organizationIdOf(services, organizationReference);
  return {
    organizationIds: [organizationId],
    permissions: [supportAccessPermission(action)],
    forbiddenFields: options.forbiddenFields ?? [],
    ...(organizationId !== undefined && { resolvedParams: { organization_id: organizationId } }),
  };
}

/**
 * A call naming a grant by id: it acts in the caller's organization, where the service looks the
 * grant up (another organization's grant is not found there).
 */
export function grantCall(context: OperationContext, action: SupportAccessAction): CallRequirement {
  refuseImpersonatedConsent(context);
  return { organizationIds: [callerOf(context).organizationId], permissions: [supportAccessPermission(action)] };
}
