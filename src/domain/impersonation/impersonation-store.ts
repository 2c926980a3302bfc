import type { ImpersonatedSession, ImpersonationPolicy, ImpersonationPolicyChange, ImpersonationSelector, ImpersonationToken } from './impersonation.js';

/** Storage port for impersonation tokens, impersonated sessions and organization policies. */
export interface ImpersonationStore {
  insertToken(token: ImpersonationToken, secret: { lookupId: string; digest: Buffer }): Promise<void>;
  /** The token with this lookup id and its digest, whatever its state; undefined when none. */
  findTokenByLookupId(lookupId: string): Promise<{ token: ImpersonationToken; digest: Buffer } | undefined>;
  /**
   * Marks the token redeemed if, and only if, it is unredeemed, unrevoked and unexpired at `at`;
   * returns whether this call did it. Concurrent callers (and a concurrent revocation) race on one
   * conditional UPDATE, so exactly one wins.
   */
  redeemToken(tokenId: string, at: string, memberSessionId: string): Promise<boolean>;
  /**
   * Revokes every token matching `selector` that is unredeemed, unrevoked and unexpired at `at`
   * (`memberSessionId` is ignored), with one conditional UPDATE; returns the tokens this call revoked.
   */
  revokeUnredeemedTokens(selector: ImpersonationSelector, at: string): Promise<ImpersonationToken[]>;
  insertImpersonatedSession(session: ImpersonatedSession): Promise<void>;
  /** The impersonated session record of this member session, ended or not; undefined when it is not an impersonation. */
  findImpersonatedSession(memberSessionId: string): Promise<ImpersonatedSession | undefined>;
  /** Impersonated sessions not yet ended and not expired at `now`, matching every given selector field, oldest first; [] when none. */
  listActiveImpersonatedSessions(selector: ImpersonationSelector, now: string): Promise<ImpersonatedSession[]>;
  /** Marks these sessions ended (if not already) and returns the ones this call ended; [] when none. */
  endImpersonatedSessions(memberSessionIds: readonly string[], at: string, reason: 'revoked' | 'expired'): Promise<ImpersonatedSession[]>;
  /** Impersonated sessions whose expiry has passed at `now` but is not yet recorded, at most `limit`; [] when none. */
  listUnrecordedExpiries(now: string, limit: number): Promise<ImpersonatedSession[]>;
  /** The organization's stored policy, or undefined when it never set one. */
  findPolicy(organizationId: string): Promise<ImpersonationPolicy | undefined>;
  /**
   * Sets only the given parts of the organization's policy (creating it, allowed with no redirect
   * URL, when it has none) in one statement, and returns the policy as stored now.
   */
  updatePolicy(organizationId: string, change: ImpersonationPolicyChange, at: string): Promise<ImpersonationPolicy>;
  /**
   * The tokens minted for one member, newest first (by creation time, then token id), each with the
   * impersonated session it started when it was redeemed: at most `limit`, starting after `before`
   * in that order when given; [] when none.
   */
  listMemberImpersonations(
    organizationId: string,
    memberId: string,
    page: { readonly limit: number; readonly before: { readonly createdAt: string; readonly tokenId: string } | null },
  ): Promise<{ token: ImpersonationToken; session: ImpersonatedSession | undefined }[]>;
}
