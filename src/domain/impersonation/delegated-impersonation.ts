import type { DomainError } from '../common/domain-error.js';
import { rbacError } from '../rbac/errors.js';

/**
 * Who calls a mint with member-session headers: an organization admin impersonating a member of
 * their own organization (delegated impersonation). Judged before the mint's transaction; the
 * returned impersonator is the admin (their member id and address).
 */
export interface DelegatingCaller {
  readonly memberSessionId: string;
  readonly memberId: string;
  readonly emailAddress: string;
  readonly organizationId: string;
  readonly isImpersonated: boolean;
  /** The caller's roles now. */
  readonly roles: readonly string[];
}

export async function judgeDelegatedMint(caller: DelegatingCaller): Promise<{ readonly impersonatorId: string; readonly emailAddress: string } | DomainError> {
  void caller;
  return rbacError('unauthorized_action');
}
