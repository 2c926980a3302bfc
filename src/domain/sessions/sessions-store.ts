import type { Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import type { AuthenticationFactor, MemberSession } from './session.js';
import type { IntermediateSession } from './intermediate-session.js';

/** A session with what every authentication answers with, read in one query. */
export interface SessionRecord {
  readonly session: MemberSession;
  readonly member: Member;
  readonly organization: Organization;
}

/** Storage port for member sessions and intermediate sessions. Tokens are never stored, only their lookup id and digest. */
export interface SessionsStore {
  insertSession(session: MemberSession, token: { lookupId: string; digest: Buffer }): Promise<void>;
  /**
   * The session whose token has this lookup id, with its member, organization and token digest,
   * whatever its state (revoked, expired); undefined when no token has this lookup id.
   */
  findSessionByTokenLookupId(lookupId: string): Promise<(SessionRecord & { tokenDigest: Buffer }) | undefined>;
  /** The session with this id, with its member and organization, whatever its state; undefined when unknown. */
  findSessionById(memberSessionId: string): Promise<SessionRecord | undefined>;
  /** Sessions of this member in this organization that are neither revoked nor expired at `now`, oldest first; [] when none. */
  listLiveSessions(organizationId: string, memberId: string, now: string): Promise<MemberSession[]>;
  /**
   * The session as stored now, for a change inside a transaction: locked until the transaction ends
   * (ReadForUpdate), so what is merged into it (claims, factors) is not lost to a concurrent change.
   * Undefined when unknown.
   */
  findSessionForUpdate(memberSessionId: string): Promise<MemberSession | undefined>;
  /** Writes expiry, factors, custom claims, roles and last access of an existing session; no-op when unknown. */
  updateSession(session: MemberSession): Promise<void>;
  /** Moves `last_accessed_at` forward only (never back), without touching anything else. */
  touchSession(memberSessionId: string, lastAccessedAt: string): Promise<void>;
  /** Revokes the session if it is live; returns whether it was. */
  revokeSession(memberSessionId: string, at: string): Promise<boolean>;
  /** Revokes every live session of the member; returns their ids ([] when none). */
  revokeSessionsForMember(memberId: string, at: string): Promise<string[]>;
  /** Revokes every live session in the organization; returns their ids ([] when none). */
  revokeSessionsForOrganization(organizationId: string, at: string): Promise<string[]>;

  insertIntermediateSession(session: IntermediateSession, token: { lookupId: string; digest: Buffer }): Promise<void>;
  /** The intermediate session whose token has this lookup id, with its token digest, whatever its state; undefined when none. */
  findIntermediateSessionByTokenLookupId(lookupId: string): Promise<{ intermediateSession: IntermediateSession; tokenDigest: Buffer } | undefined>;
  /** The intermediate session as stored now, locked until the transaction ends (as findSessionForUpdate); undefined when unknown. */
  findIntermediateSessionForUpdate(intermediateSessionId: string): Promise<IntermediateSession | undefined>;
  /** Replaces the factors of an intermediate session still usable at `at`; returns whether it was. */
  updateIntermediateSessionFactors(intermediateSessionId: string, factors: readonly AuthenticationFactor[], at: string): Promise<boolean>;
  /**
   * Marks the intermediate session spent if it is still usable at `at` (unspent, unexpired), in one
   * conditional update; returns whether it was, so of two concurrent exchanges exactly one gets true.
   */
  consumeIntermediateSession(intermediateSessionId: string, at: string): Promise<boolean>;
  /** Deletes every intermediate session of the member, spent or not (the member was deleted or changed address). */
  deleteIntermediateSessionsForMember(memberId: string): Promise<void>;
  /** Deletes the intermediate sessions that expired before `before`, spent or not; returns how many. */
  deleteExpiredIntermediateSessions(before: string): Promise<number>;
}
