import type { DomainError } from '../common/domain-error.js';
import type { AccessGrantsStore } from './access-grant.js';
import { impersonationError } from './errors.js';
import type { ImpersonationKind, ImpersonationPolicy } from './impersonation.js';

/**
 * Whether this impersonation may go ahead under the organization's access mode, judged inside the
 * mint's transaction: `open` lets support in, `by_grant` only under an open grant covering the member
 * (returned, so the token records it), `off` nobody. Delegated impersonation (an organization admin)
 * needs no grant, but `off` refuses it too. Returns the refusal instead when it may not.
 *
 * The covering grant is read FOR SHARE (PostgreSQL): a revocation of it racing this mint waits until
 * the mint commits and then revokes the token it minted, or commits first and is seen here.
 */
export async function supportAccess(
  tx: { readonly accessGrants: AccessGrantsStore },
  policy: ImpersonationPolicy | undefined,
  target: { readonly organizationId: string; readonly memberId: string; readonly kind: ImpersonationKind; readonly now: string },
): Promise<{ readonly grantId: string | null } | DomainError> {
  const mode = policy?.accessMode ?? 'open';
  if (mode === 'off') return impersonationError('member_impersonation_not_allowed', 'Impersonation is disabled for this organization.');
  if (mode === 'open' || target.kind === 'delegated') return { grantId: null };
  const [oldest] = await tx.accessGrants.findCoveringGrants(target.organizationId, target.memberId, target.now, 'for_share');
  return oldest === undefined ? impersonationError('impersonation_access_not_granted') : { grantId: oldest.grantId };
}
