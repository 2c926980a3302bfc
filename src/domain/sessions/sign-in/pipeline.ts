import { sessionRoleIds } from '../../rbac/session-roles.js';
import { createOpaqueToken } from '../../../crypto/opaque-token.js';
import type { Clock } from '../../../platform/clock.js';
import { toTimestamp } from '../../../platform/clock.js';
import type { IdGenerator } from '../../../platform/ids.js';
import type { Random } from '../../../platform/random.js';
import type { AuditRecorder } from '../../audit/audit-recorder.js';
import type { AuditStore } from '../../audit/audit-store.js';
import type { OperationContext } from '../../common/operation-context.js';
import type { Transactional } from '../../common/transactional.js';
import { memberError } from '../../members/errors.js';
import type { Member } from '../../members/member.js';
import { sessionError } from '../errors.js';
import { belongsToMember, INTERMEDIATE_SESSION_MINUTES, isUsable, type IntermediateSession } from '../intermediate-session.js';
import { DEFAULT_SESSION_MINUTES, checkSessionDuration, isImpersonated, isLive, mergeCustomClaims, type AuthenticationFactor, type MemberSession } from '../session.js';
import { requireUsableIntermediateSession } from '../find-intermediate-session.js';
import type { SessionsService } from '../sessions-service.js';
import type { SessionRecord, SessionsStore } from '../sessions-store.js';
import type { AuthOutcome, IntermediateSessionIssued, MfaRequirement, PrimaryRequirement } from './auth-outcome.js';
import { mfaError } from '../../mfa/errors.js';
import type { MfaPrompt } from './mfa-prompt.js';
import { factorsInto, secondFactorStanding } from './second-factor.js';
import { isExchange, KeptRefusal, type SignInVerifier, type VerifiedExchange, type VerifiedFactor } from './verifier.js';

/** The ports the pipeline writes itself; a verifier's transaction has its own ports besides. */
export type SignInPorts = { sessions: SessionsStore; audit: AuditStore };

/** What Stytch's sign-in requests carry besides the credential. */
export interface SignInOptions {
  /** An existing session (token or JWT): the factor is added to it when it is the same member's. */
  readonly sessionToken?: string | undefined;
  readonly sessionJwt?: string | undefined;
  readonly sessionDurationMinutes?: number | undefined;
  readonly sessionCustomClaims?: Record<string, unknown> | undefined;
  /** An intermediate session from an earlier sign-in (or from discovery), whose factors this one adds to. */
  readonly intermediateSessionToken?: string | undefined;
  /** The language of an SMS code the sign-in sends when MFA is required (Stytch's `locale`). */
  readonly locale?: string | undefined;
}

/** Runs one sign-in; what a sign-in method's service depends on. */
export interface SignIn<Tx> {
  signIn(context: OperationContext, verifier: SignInVerifier<Tx>, options?: SignInOptions): Promise<AuthOutcome>;
}

/** The options checked and the presented session or intermediate session found, before the transaction. */
interface Request {
  readonly durationMinutes: number | undefined;
  /** As given (merged into a presented session's claims), after checking them alone. */
  readonly customClaims: Record<string, unknown> | undefined;
  readonly presentedSession: { readonly record: SessionRecord; readonly sessionToken: string } | undefined;
  readonly presentedIntermediate: { readonly intermediateSession: IntermediateSession; readonly token: string } | undefined;
  readonly locale: string | undefined;
}

/** What a sign-in wrote, and the details of its write for its one audit event (see #recordWrite). */
type Written = ({ readonly record: SessionRecord; readonly sessionToken: string } | { readonly intermediate: IntermediateSessionIssued }) & {
  readonly wrote?: Readonly<Record<string, unknown>>;
  /** What runs once the transaction committed (an SMS code started by the sign-in is handed to delivery). */
  readonly afterCommit?: () => void;
};

/** The event a write of the pipeline is recorded as, when it is not the member's own sign-in. */
type WriteEvent = {
  readonly type: 'session.started' | 'session.updated' | 'intermediate_session.started' | 'intermediate_session.updated';
  readonly occurredAt: string;
  readonly details: Readonly<Record<string, unknown>>;
};
type Verified<Tx> = VerifiedFactor<Tx> | VerifiedExchange;
/** What keeps a sign-in from a member session. */
type Requirement = { readonly mfaRequired: MfaRequirement | null; readonly primaryRequired: PrimaryRequirement | null };

/**
 * The one way a member session starts. A verifier proves who the member is; the pipeline, in one
 * transaction with the verifier's own writes, applies what every sign-in shares: the member must
 * not be deleted; a live session of the same member, presented by token or JWT, gets the factor
 * instead of a new session being started (no MFA step then); otherwise an organization that
 * requires MFA for all, or a member enrolled in it, gets an intermediate session until a factor
 * that satisfies MFA is added to it. The session or intermediate session is written with its audit
 * event in that transaction; the JWT is signed after it commits. An exchange (verifier.ts) adds no
 * factor: it moves factors proved before into the member's organization, and may find that the
 * organization allows none of them (`primary_required`).
 */
export class SignInPipeline<Tx extends SignInPorts> implements SignIn<Tx> {
  readonly #store: Transactional<Tx>;
  readonly #sessions: Pick<SessionsService, 'resolveLive' | 'issueJwt'>;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  readonly #mfaPrompt: MfaPrompt<Tx> | undefined;

  constructor(dependencies: {
    store: Transactional<Tx>;
    sessions: Pick<SessionsService, 'resolveLive' | 'issueJwt'>;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    audit: AuditRecorder;
    /** Starts a second factor (an SMS code) when a sign-in ends needing MFA; none when omitted. */
    mfaPrompt?: MfaPrompt<Tx>;
  }) {
    this.#store = dependencies.store;
    this.#sessions = dependencies.sessions;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
    this.#mfaPrompt = dependencies.mfaPrompt;
  }

  async signIn(context: OperationContext, verifier: SignInVerifier<Tx>, options: SignInOptions = {}): Promise<AuthOutcome> {
    // Everything that can be refused without the credential is, before it is spent.
    const request = await this.#prepare(options);
    const written = await this.#store.transaction((tx) => this.#run(tx, context, verifier, request));
    if ('kept' in written) throw written.kept.refusal;
    written.afterCommit?.();
    if ('intermediate' in written) return written.intermediate;
    return { memberAuthenticated: true, ...written.record, sessionToken: written.sessionToken, sessionJwt: await this.#sessions.issueJwt(written.record) };
  }

  async #prepare(options: SignInOptions): Promise<Request> {
    const { sessionToken, sessionJwt, intermediateSessionToken } = options;
    if (sessionToken !== undefined && sessionJwt !== undefined) throw sessionError('too_many_session_arguments');
    const presentsSession = sessionToken !== undefined || sessionJwt !== undefined;
    if (presentsSession && intermediateSessionToken !== undefined) {
      throw sessionError('too_many_session_arguments', 'Provide only one of session_token, session_jwt and intermediate_session_token.');
    }
    const durationMinutes = options.sessionDurationMinutes === undefined ? undefined : checkSessionDuration(options.sessionDurationMinutes);
    if (options.sessionCustomClaims !== undefined) mergeCustomClaims({}, options.sessionCustomClaims);
    return {
      durationMinutes,
      customClaims: options.sessionCustomClaims,
      presentedSession: presentsSession ? { record: await this.#sessions.resolveLive({ sessionToken, sessionJwt }), sessionToken: sessionToken ?? '' } : undefined,
      presentedIntermediate: intermediateSessionToken === undefined ? undefined : await this.#findIntermediate(intermediateSessionToken),
      locale: options.locale,
    };
  }

  async #findIntermediate(token: string): Promise<{ intermediateSession: IntermediateSession; token: string }> {
    return { intermediateSession: await requireUsableIntermediateSession(this.#store.sessions, token, toTimestamp(this.#clock.now())), token };
  }

  async #run(tx: Tx, context: OperationContext, verifier: SignInVerifier<Tx>, request: Request): Promise<Written | { readonly kept: KeptRefusal }> {
    let verified: Verified<Tx>;
    try {
      verified = await verifier.verify(tx, context, { intermediateSession: request.presentedIntermediate?.intermediateSession });
    } catch (error) {
      // Returned, not thrown, so the transaction commits the verifier's writes (nothing of the pipeline's is written yet).
      if (error instanceof KeptRefusal) return { kept: error };
      throw error;
    }
    const written = await this.#decide(tx, context, verified, request);
    if (verified.signInMethod !== undefined) await this.#recordSignedIn(tx, context, verified, written);
    return written;
  }

  async #decide(tx: Tx, context: OperationContext, verified: Verified<Tx>, request: Request): Promise<Written> {
    const { member, organization } = verified;
    if (member.status === 'deleted' || member.organizationId !== organization.organizationId) throw memberError('member_not_found');
    const at = toTimestamp(this.#clock.now());
    // Stytch silently ignores a presented session of another member: the sign-in goes on as if none was given.
    // An exchange is never given one (its service resolves the session it starts from itself).
    const presented = request.presentedSession;
    const second = !isExchange(verified) && verified.secondFactor === true;
    if (!isExchange(verified) && presented !== undefined && presented.record.session.memberId === member.memberId) {
      return this.#addToSession(tx, context, verified, request, presented, at);
    }
    // A second factor is never ignored into a sign-in of its own: it needs this member's session or intermediate session.
    if (second && presented !== undefined) throw mfaError('member_session_member_id_mismatch');
    if (second && request.presentedIntermediate === undefined) throw mfaError('mfa_session_arguments_required');
    const given = request.presentedIntermediate;
    const intermediate = given === undefined ? undefined : { token: given.token, session: await this.#lockIntermediate(tx, given.intermediateSession, verified, at) };
    const added = isExchange(verified) ? verified.carriedFactors : [verified.factor];
    const carried = intermediate === undefined ? [] : factorsInto(intermediate.session, organization.organizationId);
    // A second factor completes only an intermediate session that met the organization's primary requirement (second-factor.ts).
    if (second && intermediate !== undefined && secondFactorStanding(intermediate.session, member, organization) !== 'ok') {
      throw mfaError('action_available_only_once_primary_authentication_is_met');
    }
    const factors = added.reduce((merged, factor) => withFactor(merged, factor), carried);
    const primaryRequired = isExchange(verified) ? verified.primaryRequired : null;
    if (isExchange(verified) && primaryRequired === null && factors.length === 0) throw new Error('an exchange with no factor must require a primary factor');
    if (primaryRequired !== null || requiresMfa(verified)) {
      // onSession would never run: its single-use credential would stay unclaimed (verifier.ts).
      if (!isExchange(verified) && verified.onSession !== undefined) throw new Error('a sign-in method that records its session must satisfy MFA');
      const prompt = await this.#prompt(tx, context, verified, primaryRequired, request);
      const requirement: Requirement = { mfaRequired: requiresMfa(verified) ? mfaRequirement(member, prompt) : null, primaryRequired };
      const afterCommit = prompt?.afterCommit;
      if (intermediate === undefined) return { ...(await this.#startIntermediate(tx, context, verified, factors, requirement)), afterCommit };
      if (isExchange(verified) && verified.spendsIntermediateSession === true) {
        if (!(await tx.sessions.consumeIntermediateSession(intermediate.session.intermediateSessionId, at))) throw sessionError('intermediate_session_not_found');
        return { ...(await this.#startIntermediate(tx, context, verified, factors, requirement)), afterCommit };
      }
      // An exchange proves nothing new: the intermediate session comes back as it is, to be completed by what is required.
      if (isExchange(verified)) return { intermediate: intermediateIssued(verified, intermediate.token, intermediate.session.expiresAt, requirement), afterCommit };
      return { ...(await this.#addToIntermediate(tx, context, verified, intermediate, factors, at, requirement)), afterCommit };
    }
    // Single use: of two exchanges of one intermediate session, only the one whose update claims it goes on.
    if (intermediate !== undefined && !(await tx.sessions.consumeIntermediateSession(intermediate.session.intermediateSessionId, at))) {
      throw sessionError('intermediate_session_not_found');
    }
    return this.#startSession(tx, context, verified, factors, request, intermediate?.session.intermediateSessionId);
  }

  /**
   * MFA is required and no primary factor is: the organization's second factor may start now (an
   * SMS code to the member's phone). Never while a primary factor is still required.
   */
  async #prompt(tx: Tx, context: OperationContext, verified: Verified<Tx>, primaryRequired: PrimaryRequirement | null, request: Request) {
    if (primaryRequired !== null || !requiresMfa(verified) || this.#mfaPrompt === undefined) return undefined;
    return this.#mfaPrompt.start(tx, context, verified.member, verified.organization, request.locale);
  }

  async #startSession(
    tx: Tx,
    context: OperationContext,
    verified: Verified<Tx>,
    factors: readonly AuthenticationFactor[],
    request: Request,
    fromIntermediateSessionId: string | undefined,
  ): Promise<Written> {
    const { member, organization } = verified;
    const now = this.#clock.now();
    const minutes = request.durationMinutes ?? DEFAULT_SESSION_MINUTES;
    const token = createOpaqueToken(this.#random);
    const session: MemberSession = {
      memberSessionId: this.#ids.next('session'),
      memberId: member.memberId,
      organizationId: organization.organizationId,
      startedAt: toTimestamp(now),
      lastAccessedAt: toTimestamp(now),
      expiresAt: cappedExpiry(toTimestamp(new Date(now.getTime() + minutes * 60_000)), isExchange(verified) ? undefined : verified.expiresNoLaterThan),
      authenticationFactors: factors,
      customClaims: mergeCustomClaims({}, request.customClaims ?? {}),
      attributes: { ipAddress: context.client?.ipAddress ?? '', userAgent: context.client?.userAgent ?? '' },
      roles: sessionRoleIds(member, organization, factors),
      revokedAt: null,
    };
    await tx.sessions.insertSession(session, { lookupId: token.lookupId, digest: token.digest });
    const wrote = await this.#recordWrite(tx, context, verified, {
      type: 'session.started',
      occurredAt: session.startedAt,
      details: {
        member_session_id: session.memberSessionId,
        factor: factorName(verified, factors),
        expires_at: session.expiresAt,
        ...(fromIntermediateSessionId !== undefined && { intermediate_session_id: fromIntermediateSessionId }),
        ...(isExchange(verified) && verified.auditDetails),
      },
    });
    if (!isExchange(verified)) await verified.onSession?.(tx, context, session);
    return { record: { session, member, organization }, sessionToken: token.token, wrote };
  }

  /**
   * The factor joins the presented session as stored now (locked): a factor of the same type and
   * delivery method is refreshed rather than duplicated, and `session_duration_minutes` extends it.
   * Impersonated sessions accept no other factor.
   */
  async #addToSession(
    tx: Tx,
    context: OperationContext,
    verified: VerifiedFactor<Tx>,
    request: Request,
    presented: NonNullable<Request['presentedSession']>,
    at: string,
  ): Promise<Written> {
    const { member, organization, factor } = verified;
    const current = await tx.sessions.findSessionForUpdate(presented.record.session.memberSessionId);
    if (current === undefined) throw sessionError('session_not_found');
    if (isImpersonated(current)) throw sessionError('session_not_mutable_impersonated');
    if (!isLive(current, at)) throw sessionError('session_not_found');
    const minutes = request.durationMinutes;
    const authenticationFactors = withFactor(current.authenticationFactors, factor);
    const session: MemberSession = {
      ...current,
      authenticationFactors,
      expiresAt: minutes === undefined ? current.expiresAt : toTimestamp(new Date(Date.parse(at) + minutes * 60_000)),
      customClaims: request.customClaims === undefined ? current.customClaims : mergeCustomClaims(current.customClaims, request.customClaims),
      roles: sessionRoleIds(member, organization, authenticationFactors),
      lastAccessedAt: at,
    };
    await tx.sessions.updateSession(session);
    const wrote = await this.#recordWrite(tx, context, verified, {
      type: 'session.updated',
      occurredAt: at,
      details: { member_session_id: session.memberSessionId, added_factor: factor.type, expires_at: session.expiresAt },
    });
    await verified.onSession?.(tx, context, session);
    return { record: { session, member, organization }, sessionToken: presented.sessionToken, wrote };
  }

  /**
   * The audit event of a write (a session or intermediate session started or updated), in the
   * organization and member's name (a discovery intermediate session has none of its own). A
   * member's own sign-in (a verifier with `signInMethod`) is recorded as one `member.signed_in`
   * event instead, carrying the write's details: one outcome, one event. Returns those details.
   */
  async #recordWrite(tx: Tx, context: OperationContext, verified: Verified<Tx>, event: WriteEvent): Promise<Readonly<Record<string, unknown>>> {
    if (verified.signInMethod !== undefined) return { ...event.details, wrote: event.type };
    await this.#audit.record(tx.audit, context, {
      type: event.type,
      organizationId: verified.organization.organizationId,
      memberId: verified.member.memberId,
      occurredAt: event.occurredAt,
      details: event.details,
    });
    return event.details;
  }

  /** The member's own sign-in, as one event: by which method, what it wrote and what it led to. */
  async #recordSignedIn(tx: Tx, context: OperationContext, verified: Verified<Tx>, written: Written): Promise<void> {
    const outcome =
      'intermediate' in written
        ? {
            member_authenticated: false,
            mfa_required: written.intermediate.mfaRequired !== null,
            ...(written.intermediate.primaryRequired !== null && { primary_required: true }),
          }
        : { member_authenticated: true, member_session_id: written.record.session.memberSessionId };
    await this.#audit.record(tx.audit, context, {
      type: 'member.signed_in',
      organizationId: verified.organization.organizationId,
      memberId: verified.member.memberId,
      details: { factor: factorName(verified, isExchange(verified) ? verified.carriedFactors : []), ...written.wrote, method: verified.signInMethod, ...outcome },
    });
  }

  /**
   * The presented intermediate session as stored now (locked), refused when spent or expired. It
   * must be this member's, or one that only proved an address (discovery) when it is this member's
   * address; an exchange's verifier has matched it to the member itself.
   */
  async #lockIntermediate(tx: Tx, presented: IntermediateSession, verified: Verified<Tx>, at: string): Promise<IntermediateSession> {
    const current = await tx.sessions.findIntermediateSessionForUpdate(presented.intermediateSessionId);
    if (current === undefined || !isUsable(current, at)) throw sessionError('intermediate_session_not_found');
    if (!isExchange(verified) && !belongsToMember(current, verified.member)) throw sessionError('invalid_intermediate_session_token_for_organization');
    return current;
  }

  async #startIntermediate(
    tx: Tx,
    context: OperationContext,
    verified: Verified<Tx>,
    factors: readonly AuthenticationFactor[],
    requirement: Requirement,
  ): Promise<Written> {
    const { member, organization } = verified;
    const now = this.#clock.now();
    const token = createOpaqueToken(this.#random);
    const intermediate: IntermediateSession = {
      intermediateSessionId: this.#ids.next('intermediate-session'),
      organizationId: organization.organizationId,
      memberId: member.memberId,
      emailAddress: member.emailAddress,
      authenticationFactors: factors,
      createdAt: toTimestamp(now),
      expiresAt: toTimestamp(new Date(now.getTime() + INTERMEDIATE_SESSION_MINUTES * 60_000)),
      consumedAt: null,
    };
    await tx.sessions.insertIntermediateSession(intermediate, { lookupId: token.lookupId, digest: token.digest });
    const wrote = await this.#recordWrite(tx, context, verified, {
      type: 'intermediate_session.started',
      occurredAt: intermediate.createdAt,
      details: {
        intermediate_session_id: intermediate.intermediateSessionId,
        factor: factorName(verified, factors),
        expires_at: intermediate.expiresAt,
        ...(isExchange(verified) && verified.auditDetails),
      },
    });
    return { intermediate: intermediateIssued(verified, token.token, intermediate.expiresAt, requirement), wrote };
  }

  /** Stytch answers with the very token presented, its factors now including this one; its expiry stays. */
  async #addToIntermediate(
    tx: Tx,
    context: OperationContext,
    verified: Verified<Tx>,
    intermediate: { readonly token: string; readonly session: IntermediateSession },
    factors: readonly AuthenticationFactor[],
    at: string,
    requirement: Requirement,
  ): Promise<Written> {
    const { intermediateSessionId, expiresAt } = intermediate.session;
    if (!(await tx.sessions.updateIntermediateSessionFactors(intermediateSessionId, factors, at))) throw sessionError('intermediate_session_not_found');
    const wrote = await this.#recordWrite(tx, context, verified, {
      type: 'intermediate_session.updated',
      occurredAt: at,
      details: { intermediate_session_id: intermediateSessionId, added_factor: factorName(verified, factors) },
    });
    return { intermediate: intermediateIssued(verified, intermediate.token, expiresAt, requirement), wrote };
  }
}

/** MFA is required when the organization requires it for all or the member enrolled, unless this factor satisfies it (an exchanged one never does). */
function requiresMfa<Tx>(verified: Verified<Tx>): boolean {
  if (!isExchange(verified) && (verified.satisfiesMfa === true || verified.secondFactor === true)) return false;
  return verified.organization.settings.mfaPolicy === 'REQUIRED_FOR_ALL' || verified.member.mfaEnrolled;
}


/** The session's expiry, no later than the verifier's limit when it sets one (timestamps compare as text: both RFC 3339 UTC). */
function cappedExpiry(expiresAt: string, limit: string | undefined): string {
  return limit !== undefined && limit < expiresAt ? limit : expiresAt;
}

/** The factor an audit event names: the one proved, or for an exchange the last of those it moved ("none" when it moved none). */
function factorName<Tx>(verified: Verified<Tx>, factors: readonly AuthenticationFactor[]): string {
  if (!isExchange(verified)) return verified.factor.type;
  return factors.at(-1)?.type ?? 'none';
}

/** The factors with `factor` added: one of the same type and delivery method is replaced (refreshed), not duplicated. */
function withFactor(factors: readonly AuthenticationFactor[], factor: AuthenticationFactor): readonly AuthenticationFactor[] {
  return [...factors.filter((existing) => existing.type !== factor.type || existing.deliveryMethod !== factor.deliveryMethod), factor];
}

function intermediateIssued<Tx>(verified: Verified<Tx>, token: string, expiresAt: string, requirement: Requirement): IntermediateSessionIssued {
  return {
    memberAuthenticated: false,
    member: verified.member,
    organization: verified.organization,
    intermediateSessionToken: token,
    intermediateSessionExpiresAt: expiresAt,
    mfaRequired: requirement.mfaRequired,
    primaryRequired: requirement.primaryRequired,
  };
}

/** The member's enrolled second factors, as Stytch lists them in `mfa_required.member_options`, and the one the sign-in started. */
function mfaRequirement(member: Member, prompt: { readonly initiated: string } | undefined): MfaRequirement {
  const enrolled = member.mfaPhoneNumber !== '' || member.totpRegistrationId !== '';
  return {
    memberOptions: enrolled ? { mfaPhoneNumber: member.mfaPhoneNumber, totpRegistrationId: member.totpRegistrationId } : null,
    secondaryAuthInitiated: prompt?.initiated ?? null,
  };
}
