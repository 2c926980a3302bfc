import type { Actor } from '../common/operation-context.js';

/**
 * An access grant: a window, opened by the organization, in which the vendor's support may
 * impersonate its members (organizations in `by_grant` mode). Support may ask for one
 * (`requested`); a member of the organization allowed `understudy.support-access:grant` opens one
 * or approves a request (`open`), denies a request (`denied`) or ends an open one (`revoked`). An
 * open grant whose `expiresAt` has passed is expired: no stored state changes when it does.
 */
export interface AccessGrant {
  readonly grantId: string;
  readonly organizationId: string;
  readonly status: AccessGrantStatus;
  /** The members it covers; null means every member of the organization. */
  readonly memberIds: readonly string[] | null;
  readonly durationMinutes: number;
  readonly reason: string;
  readonly requestedBy: Actor;
  readonly requestedAt: string;
  readonly openedBy: Actor | null;
  readonly openedAt: string | null;
  /** Set when it opens: openedAt + durationMinutes. */
  readonly expiresAt: string | null;
  readonly closedBy: Actor | null;
  readonly closedAt: string | null;
}

export type AccessGrantStatus = 'requested' | 'open' | 'denied' | 'revoked';

/** What a reader is shown: the stored status, with `expired` for an open grant past its end. */
export type AccessGrantState = AccessGrantStatus | 'expired';

export function grantState(grant: AccessGrant, now: string): AccessGrantState {
  return grant.status === 'open' && grant.expiresAt !== null && grant.expiresAt <= now ? 'expired' : grant.status;
}

/** Whether the grant lets support impersonate this member at `now`. */
export function grantCovers(grant: AccessGrant, memberId: string, now: string): boolean {
  return grantState(grant, now) === 'open' && (grant.memberIds === null || grant.memberIds.includes(memberId));
}

/** What narrows a listing of grants; `state` is judged at `now` (an open grant past its end is `expired`). */
export interface AccessGrantFilter {
  /** The organization's grants; every organization's when undefined. */
  readonly organizationId?: string | undefined;
  readonly state?: AccessGrantState | undefined;
  readonly now: string;
  readonly limit: number;
}

/** The columns a transition sets besides the status; only those given are written. */
export interface AccessGrantTransition {
  readonly openedBy?: Actor;
  readonly openedAt?: string;
  readonly expiresAt?: string;
  readonly closedBy?: Actor;
  readonly closedAt?: string;
}

/** Storage port for access grants. */
export interface AccessGrantsStore {
  insertGrant(grant: AccessGrant): Promise<void>;
  /** The grant by id; `lock` reads it FOR UPDATE or FOR SHARE (PostgreSQL) so a concurrent change waits. */
  findGrant(grantId: string, lock?: 'for_update' | 'for_share'): Promise<AccessGrant | undefined>;
  /**
   * Open grants of the organization that cover the member at `now` (scope, unexpired), oldest first;
   * with `lock`, read FOR SHARE so a revocation racing a mint waits for it (and then revokes its token).
   */
  findCoveringGrants(organizationId: string, memberId: string, now: string, lock?: 'for_share'): Promise<AccessGrant[]>;
  /**
   * Moves the grant from one of `from` to `to`, setting only the given columns, in one conditional
   * UPDATE; with `unexpiredAt`, only while its `expires_at` is after that time. Returns the grant as
   * stored now, or undefined when the condition did not hold (a concurrent change won, or it ended).
   */
  transitionGrant(
    grantId: string,
    condition: { readonly from: readonly AccessGrantStatus[]; readonly unexpiredAt?: string | undefined },
    to: AccessGrantStatus,
    change: AccessGrantTransition,
  ): Promise<AccessGrant | undefined>;
  /** Grants matching the filter, newest first, at most `limit`. */
  listGrants(filter: AccessGrantFilter): Promise<AccessGrant[]>;
}
