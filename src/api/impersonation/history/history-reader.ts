import type { OperationContext } from '../../../domain/common/operation-context.js';
import { impersonationError } from '../../../domain/impersonation/errors.js';

/**
 * Impersonation history and the audit trail are the member's and the organization's account of
 * what support did as them: an impersonated session may neither read it (to learn what is recorded)
 * nor export it, so with its headers these calls are refused like a chained impersonation. Called
 * from `memberAuthorization`, so the refusal is on the trail as `impersonation.session_acted`.
 */
export function refuseImpersonatedReader(context: OperationContext): void {
  if (context.actor.type === 'member_session' && context.actor.impersonator !== undefined) {
    throw impersonationError('member_impersonation_not_allowed', 'An impersonated session cannot read or export the impersonation history or audit trail.');
  }
}
