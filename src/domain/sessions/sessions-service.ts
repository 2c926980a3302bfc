import { sessionRoleIds } from '../rbac/session-roles.js';
import type { RbacPolicyService } from '../rbac/policy-service.js';
import { findByOpaqueToken } from '../../crypto/opaque-token.js';
import { textDigest } from '../../crypto/secret-digest.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { memberError } from '../members/errors.js';
import type { Member } from '../members/member.js';
import { organizationError } from '../organizations/errors.js';
import type { Organization } from '../organizations/organization.js';
import type { DomainEventOf, DomainEventPublisher } from '../common/domain-events.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import type { StorePorts } from '../ports.js';
import { authorize, type AuthorizationCheck, type AuthorizationVerdict } from '../rbac/authorize.js';
import type { PermissionMask } from '../impersonation/impersonation.js';
import { maskRestriction } from '../impersonation/permission-mask.js';
import { sessionError } from './errors.js';
import { checkSessionDuration, isImpersonated, isLive, mergeCustomClaims, type MemberSession } from './session.js';
import { SESSION_CLAIM, sessionClaims } from './session-claims.js';
import { SessionJwtCache } from './session-jwt-cache.js';
import type { SessionJwtCodec } from './session-jwt-codec.js';
import type { SessionRecord } from './sessions-store.js';

/**
 * A revocation's transaction carries every port: sessions publish `member_sessions.revoked` in it,
 * and its subscribers (the impersonation ledger) write their own rows there.
 */
export type SessionsServiceStore = Transactional<StorePorts>;
/** The cause recorded with a revocation that something else caused (an operator disabled, an organization deleted). */
export type RevocationCause = DomainEventOf<'member_sessions.revoked'>['why'];

const JWT_LIFETIME_SECONDS = 300;
/** A cached JWT is handed out again only while it has at least this much life left. */
const JWT_REUSE_MINIMUM_SECONDS = 120;
/** `last_accessed_at` is written at most this often, so most authentications are pure reads. */
const TOUCH_INTERVAL_MILLISECONDS = 60_000;

export interface AuthenticatedSession extends SessionRecord {
  /** The opaque token when the caller presented it; "" when it presented a JWT (only a digest is stored). */
  readonly sessionToken: string;
  readonly sessionJwt: string;
  /** Present when an authorization check was asked for and passed (a failed check throws). */
  readonly verdict?: AuthorizationVerdict;
}

export interface AuthenticateSessionInput {
  readonly sessionToken?: string | undefined;
  readonly sessionJwt?: string | undefined;
  readonly sessionDurationMinutes?: number | undefined;
  readonly sessionCustomClaims?: Record<string, unknown> | undefined;
  readonly authorizationCheck?: AuthorizationCheck | undefined;
}

export interface RevokeSessionInput {
  readonly memberSessionId?: string | undefined;
  readonly sessionToken?: string | undefined;
  readonly sessionJwt?: string | undefined;
  readonly memberId?: string | undefined;
}

/**
 * Member sessions: what every application checks. They start only through the sign-in pipeline
 * (sign-in/pipeline.ts); revocations are published as `member_sessions.revoked`.
 */
export class SessionsService {
  readonly #store: SessionsServiceStore;
  readonly #jwt: SessionJwtCodec;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;
  readonly #projectId: string;
  readonly #events: DomainEventPublisher<StorePorts>;
  readonly #rbacPolicy: Pick<RbacPolicyService, 'rolesOf'>;
  readonly #jwtCache = new SessionJwtCache();

  constructor(dependencies: {
    store: SessionsServiceStore;
    jwt: SessionJwtCodec;
    clock: Clock;
    audit: AuditRecorder;
    projectId: string;
    events: DomainEventPublisher<StorePorts>;
    /** The role definitions `authorization_check` is decided against. */
    rbacPolicy: Pick<RbacPolicyService, 'rolesOf'>;
  }) {
    this.#store = dependencies.store;
    this.#jwt = dependencies.jwt;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
    this.#projectId = dependencies.projectId;
    this.#events = dependencies.events;
    this.#rbacPolicy = dependencies.rbacPolicy;
  }

  /** sessions.authenticate. Revocation is seen at once: every call reads the database. */
  async authenticate(context: OperationContext, input: AuthenticateSessionInput): Promise<AuthenticatedSession> {
    if (input.sessionToken === undefined && input.sessionJwt === undefined) throw sessionError('no_session_arguments');
    if (input.sessionToken !== undefined && input.sessionJwt !== undefined) throw sessionError('too_many_session_arguments');
    const duration = input.sessionDurationMinutes === undefined ? undefined : checkSessionDuration(input.sessionDurationMinutes);
    const now = this.#clock.now();
    // No rate limit on failures: a 44-character random token or a signed JWT cannot be guessed, and
    // the caller is the customer's backend, so a limit on its failures would let anyone sending a
    // bogus cookie get that backend's genuine sessions refused (docs/compatibility.md, "Rate limits").
    const record = await this.#findPresented(input);
    if (record === undefined || !isLive(record.session, toTimestamp(now)) || record.member.status === 'deleted') throw sessionError('session_not_found');
    // The check runs on the member's current roles (and an impersonated session's permission mask)
    // before any write, so a refusal changes nothing.
    const roles = sessionRoleIds(record.member, record.organization, record.session.authenticationFactors);
    const mask = await this.permissionMaskOf(record.session);
    const verdict =
      input.authorizationCheck &&
      authorize(input.authorizationCheck, { organizationId: record.session.organizationId, roles }, await this.#rbacPolicy.rolesOf(record.organization), maskRestriction(mask));
    const updated = await this.#applyChanges(context, record, { duration, customClaims: input.sessionCustomClaims, roles, now });
    return { ...updated, sessionToken: input.sessionToken ?? '', sessionJwt: await this.#signJwt(updated, mask), ...(verdict && { verdict }) };
  }

  /**
   * The live session behind member-session request headers, read-only (no touch, no extension);
   * throws `session_not_found` when there is none.
   */
  async resolveLive(input: { sessionToken?: string | undefined; sessionJwt?: string | undefined }): Promise<SessionRecord> {
    const record =
      input.sessionToken !== undefined ? await this.#findByToken(input.sessionToken) : input.sessionJwt !== undefined ? await this.#findByJwt(input.sessionJwt) : undefined;
    if (record === undefined || !isLive(record.session, toTimestamp(this.#clock.now())) || record.member.status === 'deleted') {
      throw sessionError('session_not_found');
    }
    return record;
  }

  /**
   * What an impersonated session may do beyond its roles' say (restricted impersonation), from its
   * impersonation record; null for every other session and for an impersonation without a mask.
   */
  async permissionMaskOf(session: Pick<MemberSession, 'memberSessionId' | 'authenticationFactors'>): Promise<PermissionMask | null> {
    if (!isImpersonated(session)) return null;
    return (await this.#store.impersonation.findImpersonatedSession(session.memberSessionId))?.permissionMask ?? null;
  }

  /** A JWT for the session as it is now, reusing the last one signed while the claims are unchanged. */
  async issueJwt(record: SessionRecord): Promise<string> {
    return this.#signJwt(record, await this.permissionMaskOf(record.session));
  }

  /** issueJwt with the session's permission mask already read (a mask never changes once the session started). */
  async #signJwt(record: SessionRecord, mask: PermissionMask | null): Promise<string> {
    const claims = sessionClaims(record.session, record.organization, this.#projectId, mask);
    // A digest, not the ~1 KB JSON itself: the cache holds one entry per recently active session.
    const claimsKey = textDigest(JSON.stringify(claims));
    const nowSeconds = Math.floor(this.#clock.now().getTime() / 1000);
    const cached = this.#jwtCache.find(record.session.memberSessionId, claimsKey, nowSeconds, JWT_REUSE_MINIMUM_SECONDS);
    if (cached !== undefined) return cached;
    // Never later than the session itself: a JWT checked locally (authenticateJwtLocal) must not
    // outlive an impersonated session in its last minutes, or any session that is about to end.
    const sessionEndSeconds = Math.floor(Date.parse(record.session.expiresAt) / 1000);
    const expiresAtSeconds = Math.min(nowSeconds + JWT_LIFETIME_SECONDS, sessionEndSeconds);
    const jwt = await this.#jwt.sign({ ...claims, iat: nowSeconds, nbf: nowSeconds, exp: expiresAtSeconds });
    this.#jwtCache.remember(record.session.memberSessionId, claimsKey, jwt, expiresAtSeconds);
    return jwt;
  }

  /** sessions.get: the member's live sessions. */
  async get(organizationReference: string, memberReference: string): Promise<{ organization: Organization; sessions: MemberSession[] }> {
    const organization = await this.#store.organizations.findOrganization(organizationReference);
    if (organization === undefined) throw organizationError('organization_not_found');
    const member = await this.#store.members.findMember(organization.organizationId, memberReference);
    if (member === undefined || member.status === 'deleted') throw memberError('member_not_found');
    const sessions = await this.#store.sessions.listLiveSessions(organization.organizationId, member.memberId, toTimestamp(this.#clock.now()));
    return { organization, sessions };
  }

  /** sessions.revoke: one session (by id, token or JWT) or every session of a member. */
  async revoke(context: OperationContext, input: RevokeSessionInput): Promise<void> {
    const given = [input.memberSessionId, input.sessionToken, input.sessionJwt, input.memberId].filter((value) => value !== undefined);
    if (given.length === 0) throw sessionError('no_session_revoke_arguments');
    if (given.length > 1) throw sessionError('too_many_session_revoke_arguments');
    if (input.memberId !== undefined) {
      await this.revokeMemberSessions(context, input.memberId);
      return;
    }
    const record =
      input.memberSessionId !== undefined
        ? await this.#store.sessions.findSessionById(input.memberSessionId)
        : input.sessionToken !== undefined
          ? await this.#findByToken(input.sessionToken)
          : await this.#findByJwt(input.sessionJwt as string);
    const at = toTimestamp(this.#clock.now());
    if (record === undefined || !isLive(record.session, at)) throw sessionError('session_not_found');
    await this.#store.transaction(async (tx) => {
      if (!(await tx.sessions.revokeSession(record.session.memberSessionId, at))) throw sessionError('session_not_found');
      await this.#recordRevocation(tx, context, record.session.organizationId, record.session.memberId, [record.session.memberSessionId], at);
    });
    this.#jwtCache.forget(record.session.memberSessionId);
  }

  /**
   * Whose session a sessions.revoke argument names (id, token or JWT), live or not, read-only;
   * undefined when it names none. A call made with member-session headers is judged by it before
   * anything is revoked. A JWT this server cannot verify is refused as sessions.revoke refuses it.
   */
  async ownerOf(input: Omit<RevokeSessionInput, 'memberId'>): Promise<{ organizationId: string; memberId: string } | undefined> {
    const record =
      input.memberSessionId !== undefined
        ? await this.#store.sessions.findSessionById(input.memberSessionId)
        : input.sessionToken !== undefined
          ? await this.#findByToken(input.sessionToken)
          : input.sessionJwt !== undefined
            ? await this.#findByJwt(input.sessionJwt)
            : undefined;
    return record === undefined ? undefined : { organizationId: record.session.organizationId, memberId: record.session.memberId };
  }

  async revokeMemberSessions(context: OperationContext, memberId: string): Promise<void> {
    const member = await this.#store.members.findMemberById(memberId);
    if (member === undefined) throw memberError('member_not_found');
    await this.#store.transaction((tx) => this.revokeMemberSessionsIn(tx, context, member));
  }

  /** Revokes all of a member's sessions inside the caller's transaction (member deletion, email change). */
  async revokeMemberSessionsIn(tx: StorePorts, context: OperationContext, member: Pick<Member, 'memberId' | 'organizationId'>): Promise<void> {
    const at = toTimestamp(this.#clock.now());
    const revoked = await tx.sessions.revokeSessionsForMember(member.memberId, at);
    if (revoked.length > 0) await this.#recordRevocation(tx, context, member.organizationId, member.memberId, revoked, at);
    for (const id of revoked) this.#jwtCache.forget(id);
  }

  /** Revokes every live session of the organization inside the caller's transaction (organization deletion). */
  async revokeOrganizationSessionsIn(tx: StorePorts, context: OperationContext, organizationId: string): Promise<void> {
    const at = toTimestamp(this.#clock.now());
    const revoked = await tx.sessions.revokeSessionsForOrganization(organizationId, at);
    if (revoked.length === 0) return;
    await this.#audit.record(tx.audit, context, { type: 'session.revoked', organizationId, occurredAt: at, details: { member_session_ids: revoked } });
    await this.#events.publish(tx, context, { type: 'member_sessions.revoked', memberSessionIds: revoked, at });
    for (const id of revoked) this.#jwtCache.forget(id);
  }

  /** Revokes these sessions inside the caller's transaction (`why`: their cause); returns the ids that were still live. */
  async revokeSessionsIn(
    tx: StorePorts,
    context: OperationContext,
    sessions: readonly { memberSessionId: string; organizationId: string; memberId: string }[],
    why?: RevocationCause,
  ): Promise<string[]> {
    const at = toTimestamp(this.#clock.now());
    const revoked: string[] = [];
    for (const session of sessions) {
      if (!(await tx.sessions.revokeSession(session.memberSessionId, at))) continue;
      revoked.push(session.memberSessionId);
      await this.#recordRevocation(tx, context, session.organizationId, session.memberId, [session.memberSessionId], at, why);
    }
    return revoked;
  }

  async #recordRevocation(tx: StorePorts, context: OperationContext, organizationId: string, memberId: string, ids: string[], at: string, why?: RevocationCause): Promise<void> {
    for (const id of ids) this.#jwtCache.forget(id);
    // Published after the member session's row is revoked (locked): its subscribers (the impersonation
    // ledger) lock their rows after it, the lock order (read-for-update.ts).
    await this.#events.publish(tx, context, { type: 'member_sessions.revoked', memberSessionIds: ids, at, ...(why !== undefined && { why }) });
    await this.#audit.record(tx.audit, context, {
      type: 'session.revoked',
      organizationId,
      memberId,
      occurredAt: at,
      details: { member_session_ids: ids },
    });
  }

  /** The session named by the presented token or JWT; undefined when this server never issued it. */
  async #findPresented(input: AuthenticateSessionInput): Promise<SessionRecord | undefined> {
    return input.sessionToken !== undefined ? this.#findByToken(input.sessionToken) : this.#findByJwt(input.sessionJwt as string);
  }

  async #findByToken(sessionToken: string): Promise<SessionRecord | undefined> {
    return findByOpaqueToken(sessionToken, (lookupId) => this.#store.sessions.findSessionByTokenLookupId(lookupId), (stored) => stored.tokenDigest);
  }

  async #findByJwt(sessionJwt: string): Promise<SessionRecord | undefined> {
    const verified = await this.#jwt.verify(sessionJwt);
    if ('rejected' in verified) throw jwtRejection(verified.rejected);
    const sessionId = (verified.claims[SESSION_CLAIM] as { id?: unknown } | undefined)?.id;
    if (typeof sessionId !== 'string') throw sessionError('jwt_invalid_claims');
    const record = await this.#store.sessions.findSessionById(sessionId);
    return record !== undefined && record.session.memberId === verified.claims.sub ? record : undefined;
  }

  async #applyChanges(
    context: OperationContext,
    record: SessionRecord,
    change: { duration: number | undefined; customClaims: Record<string, unknown> | undefined; roles: string[]; now: Date },
  ): Promise<SessionRecord> {
    const current = record.session;
    const at = toTimestamp(change.now);
    const roles = change.roles;
    const isTouchDue = change.now.getTime() - new Date(current.lastAccessedAt).getTime() >= TOUCH_INTERVAL_MILLISECONDS;
    const applyTo = (base: MemberSession): MemberSession => {
      // Impersonated sessions keep their fixed expiry whatever duration is asked for: Stytch's cannot be extended.
      const expiresAt =
        change.duration !== undefined && !isImpersonated(base) ? toTimestamp(new Date(change.now.getTime() + change.duration * 60_000)) : base.expiresAt;
      const customClaims = change.customClaims === undefined ? base.customClaims : mergeCustomClaims(base.customClaims, change.customClaims);
      return { ...base, expiresAt, customClaims, roles, lastAccessedAt: isTouchDue ? at : base.lastAccessedAt };
    };
    const read = applyTo(current);
    const isChanged = read.expiresAt !== current.expiresAt || change.customClaims !== undefined || roles.join() !== current.roles.join();
    if (isChanged) {
      const session = await this.#store.transaction(async (tx) => {
        // Merged into the row as it is now (locked), not as read before: two calls adding different
        // claims at once both keep theirs, and a revocation committed meanwhile wins.
        const stored = await tx.sessions.findSessionForUpdate(current.memberSessionId);
        if (stored === undefined || !isLive(stored, at)) throw sessionError('session_not_found');
        const session = applyTo(stored);
        await tx.sessions.updateSession(session);
        await this.#audit.record(tx.audit, context, {
          type: 'session.updated',
          organizationId: session.organizationId,
          memberId: session.memberId,
          occurredAt: at,
          details: { member_session_id: session.memberSessionId, expires_at: session.expiresAt },
        });
        return session;
      });
      return { ...record, session };
    }
    if (isTouchDue) await this.#store.sessions.touchSession(current.memberSessionId, at);
    return { ...record, session: read };
  }
}

function jwtRejection(reason: string): Error {
  switch (reason) {
    case 'malformed':
      return sessionError('unable_to_parse_session_jwt');
    case 'wrong_issuer':
      return sessionError('jwt_invalid_issuer');
    case 'wrong_audience':
      return sessionError('jwt_invalid_audience');
    case 'not_yet_valid':
      return sessionError('jwt_invalid_claims');
    default:
      // A bad signature or an unknown key: the JWT cannot be trusted, so nothing in it is parsed.
      return sessionError('unable_to_parse_session_jwt');
  }
}
