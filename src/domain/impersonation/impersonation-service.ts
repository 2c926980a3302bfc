import { createOpaqueToken, digestsMatch, parseOpaqueToken } from '../../crypto/opaque-token.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditEventType } from '../audit/audit-event.js';
import type { AuditStore } from '../audit/audit-store.js';
import { memberError } from '../members/errors.js';
import { normalizeEmail, type Member } from '../members/member.js';
import type { MembersStore } from '../members/members-store.js';
import { organizationError } from '../organizations/errors.js';
import type { Organization } from '../organizations/organization.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';
import { rbacError } from '../rbac/errors.js';
import type { AuthenticationFactor } from '../sessions/session.js';
import type { AuthenticatedSession, SessionsService } from '../sessions/sessions-service.js';
import type { SessionsStore } from '../sessions/sessions-store.js';
import { NO_GUESS_LIMIT, type GuessLimit } from '../rate-limits/rate-limiter.js';
import type { DomainError } from '../shared/domain-error.js';
import type { OperationContext } from '../shared/operation-context.js';
import type { Transactional } from '../shared/transactional.js';
import { impersonationError } from './errors.js';
import {
  DEFAULT_TOKEN_MINUTES,
  IMPERSONATED_SESSION_MINUTES,
  MAX_REASON_LENGTH,
  MAX_TOKEN_MINUTES,
  type ImpersonatedSession,
  type ImpersonationToken,
} from './impersonation.js';
import { effectivePolicy, impersonationUrl, type EffectivePolicy, type ProjectImpersonationPolicy } from './impersonation-policy.js';
import type { ImpersonationStore } from './impersonation-store.js';

type Ports = { organizations: OrganizationsStore; members: MembersStore; sessions: SessionsStore; audit: AuditStore; impersonation: ImpersonationStore };
export type ImpersonationServiceStore = Transactional<Ports>;

export interface MintInput {
  readonly organizationReference: string;
  /** A member id, external id or email address. */
  readonly memberReference: string;
  readonly impersonatorId: string;
  readonly impersonatorEmailAddress: string;
  readonly reason: string | undefined;
  readonly expirationMinutes?: number | undefined;
  /** The session named by member-session headers on the minting call, if any (no chains). */
  readonly callerSession?: { readonly isImpersonated: boolean } | undefined;
}

export interface MintedToken {
  readonly impersonationToken: string;
  readonly expiresAt: string;
  readonly impersonationUrl: string | null;
  readonly member: Member;
  readonly organization: Organization;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}$/;

/**
 * Member impersonation (reference §A): our minting extension, Stytch's redemption, the policy that
 * governs both, and the ways to end it. Every mint, redemption and refusal is audited.
 */
export class ImpersonationService {
  readonly #store: ImpersonationServiceStore;
  readonly #sessions: SessionsService;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  readonly #project: ProjectImpersonationPolicy;
  readonly #guesses: GuessLimit;

  constructor(dependencies: {
    store: ImpersonationServiceStore;
    sessions: SessionsService;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    audit: AuditRecorder;
    project: ProjectImpersonationPolicy;
    /** Caps failed redemptions of unknown tokens per client address; no cap when omitted. */
    guesses?: GuessLimit;
  }) {
    this.#store = dependencies.store;
    this.#sessions = dependencies.sessions;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
    this.#project = dependencies.project;
    this.#guesses = dependencies.guesses ?? NO_GUESS_LIMIT;
  }

  /** Mints a single-use token to impersonate a member; refusals are audited with why. */
  async mint(context: OperationContext, input: MintInput): Promise<MintedToken> {
    const attempt = { impersonatorId: input.impersonatorId, details: { impersonator_email_address: input.impersonatorEmailAddress, reason: input.reason ?? null } };
    const refuse = (error: DomainError, scope: { organizationId?: string; memberId?: string } = {}): Promise<never> =>
      this.#refuse(context, 'impersonation.mint_refused', error, { ...attempt, ...scope });
    if (input.callerSession?.isImpersonated === true) {
      return refuse(impersonationError('member_impersonation_not_allowed', 'An impersonated session cannot start another impersonation.'));
    }
    if (input.callerSession !== undefined) return refuse(rbacError('unauthorized_action'));
    const reason = (input.reason ?? '').trim();
    if (reason === '' || reason.length > MAX_REASON_LENGTH) return refuse(impersonationError('invalid_impersonation_reason'));
    const impersonatorId = input.impersonatorId.trim();
    if (impersonatorId === '' || impersonatorId.length > 256 || !EMAIL.test(input.impersonatorEmailAddress)) return refuse(impersonationError('invalid_impersonator'));
    const minutes = input.expirationMinutes ?? DEFAULT_TOKEN_MINUTES;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_TOKEN_MINUTES) return refuse(impersonationError('invalid_expiration'));

    const organization = await this.#store.organizations.findOrganization(input.organizationReference);
    if (organization === undefined) return refuse(organizationError('organization_not_found'));
    const scope = { organizationId: organization.organizationId };
    const member = await this.#findMember(organization, input.memberReference);
    if (member === undefined) return refuse(memberError('member_not_found'), scope);
    const policy = await this.#policyFor(organization.organizationId);
    if (!policy.enabled) return refuse(disabled(policy), { ...scope, memberId: member.memberId });

    const now = this.#clock.now();
    const secret = createOpaqueToken(this.#random);
    const token: ImpersonationToken = {
      tokenId: this.#ids.next('impersonation-token'),
      organizationId: organization.organizationId,
      memberId: member.memberId,
      impersonatorId,
      impersonatorEmailAddress: normalizeEmail(input.impersonatorEmailAddress),
      reason,
      createdAt: toTimestamp(now),
      expiresAt: toTimestamp(new Date(now.getTime() + minutes * 60_000)),
      redeemedAt: null,
      memberSessionId: null,
    };
    await this.#store.transaction(async (tx) => {
      await tx.impersonation.insertToken(token, { lookupId: secret.lookupId, digest: secret.digest });
      await this.#audit.record(tx.audit, context, {
        type: 'impersonation.token_minted',
        organizationId: token.organizationId,
        memberId: token.memberId,
        impersonatorId: token.impersonatorId,
        occurredAt: token.createdAt,
        details: { token_id: token.tokenId, impersonator_email_address: token.impersonatorEmailAddress, reason, expires_at: token.expiresAt },
      });
    });
    return {
      impersonationToken: secret.token,
      expiresAt: token.expiresAt,
      impersonationUrl: policy.redirectUrl === null ? null : impersonationUrl(policy.redirectUrl, secret.token),
      member,
      organization,
    };
  }

  /** impersonation.authenticate: exactly one redemption wins; the session lasts 60 minutes, fixed. */
  async redeem(context: OperationContext, presented: string): Promise<AuthenticatedSession> {
    // Past the client's limit of failed guesses nothing is looked at (and nothing audited: the trail would be the flood).
    await this.#guesses.beforeAttempt(context);
    const parsed = parseOpaqueToken(presented);
    const found = parsed === undefined ? undefined : await this.#store.impersonation.findTokenByLookupId(parsed.lookupId);
    if (parsed === undefined || found === undefined || !digestsMatch(parsed.digest, found.digest)) {
      // A token this server never minted is a guess; the refusal that crosses the limit is audited as too_many_requests.
      const error = await this.#guesses.afterFailedGuess(context, impersonationError('unable_to_auth_impersonation_token'));
      return this.#refuse(context, 'impersonation.redemption_refused', error, { details: { why: 'unknown_token' } });
    }
    const token = found.token;
    const scope = { organizationId: token.organizationId, memberId: token.memberId, impersonatorId: token.impersonatorId };
    // A known token's refusal names the reason it was minted for, like every other event of its trail.
    const refuse = (error: DomainError, why: string): Promise<never> =>
      this.#refuse(context, 'impersonation.redemption_refused', error, { ...scope, details: { why, token_id: token.tokenId, reason: token.reason } });
    const now = this.#clock.now();
    const at = toTimestamp(now);
    if (token.redeemedAt !== null) return refuse(impersonationError('unable_to_auth_impersonation_token'), 'already_used');
    if (token.expiresAt <= at) return refuse(impersonationError('unable_to_auth_impersonation_token'), 'expired');
    const policy = await this.#policyFor(token.organizationId);
    if (!policy.enabled) return refuse(disabled(policy), `disabled_by_${policy.disabledBy}`);
    const organization = await this.#store.organizations.findOrganization(token.organizationId);
    const member = organization && (await this.#store.members.findMemberById(token.memberId));
    if (organization === undefined || member === undefined || member.status === 'deleted') {
      return refuse(impersonationError('unable_to_auth_impersonation_token', 'The member of this impersonation token no longer exists.'), 'member_deleted');
    }

    let started: Awaited<ReturnType<SessionsService['startSession']>>;
    try {
      started = await this.#store.transaction(async (tx) => {
        const session = await this.#sessions.startSession(tx, context, {
          member,
          organization,
          factor: impersonatedFactor(token, at),
          durationMinutes: IMPERSONATED_SESSION_MINUTES,
        });
        const memberSessionId = session.record.session.memberSessionId;
        // Throwing rolls the new session back: only the request whose UPDATE claimed the token keeps one.
        if (!(await tx.impersonation.redeemToken(token.tokenId, at, memberSessionId))) throw new LostRedemptionRace();
        await tx.impersonation.insertImpersonatedSession(ledgerEntry(token, session.record.session));
        await this.#audit.record(tx.audit, context, {
          type: 'impersonation.token_redeemed',
          ...scope,
          occurredAt: at,
          details: { token_id: token.tokenId, member_session_id: memberSessionId, reason: token.reason, impersonator_email_address: token.impersonatorEmailAddress, expires_at: session.record.session.expiresAt },
        });
        return session;
      });
    } catch (error) {
      if (error instanceof LostRedemptionRace) return refuse(impersonationError('unable_to_auth_impersonation_token'), 'already_used');
      throw error;
    }
    return { ...started.record, sessionToken: started.sessionToken, sessionJwt: await this.#sessions.issueJwt(started.record) };
  }

  async #findMember(organization: Organization, reference: string): Promise<Member | undefined> {
    const member = reference.includes('@')
      ? await this.#store.members.findMemberByEmail(organization.organizationId, reference.trim().toLowerCase())
      : await this.#store.members.findMember(organization.organizationId, reference);
    return member === undefined || member.status === 'deleted' ? undefined : member;
  }

  async #policyFor(organizationId: string): Promise<EffectivePolicy> {
    return effectivePolicy(this.#project, await this.#store.impersonation.findPolicy(organizationId));
  }

  /** Writes the refusal to the audit trail (its own transaction: nothing else changes), then fails. */
  async #refuse(
    context: OperationContext,
    type: Extract<AuditEventType, 'impersonation.mint_refused' | 'impersonation.redemption_refused'>,
    error: DomainError,
    scope: { organizationId?: string; memberId?: string; impersonatorId?: string; details?: Record<string, unknown> },
  ): Promise<never> {
    await this.#store.transaction((tx) =>
      this.#audit.record(tx.audit, context, {
        type,
        organizationId: scope.organizationId ?? null,
        memberId: scope.memberId ?? null,
        impersonatorId: scope.impersonatorId ?? null,
        details: { ...scope.details, error_type: error.code },
      }),
    );
    throw error;
  }

}

/** Another request redeemed the token between our read and our write. */
class LostRedemptionRace extends Error {}

function disabled(policy: EffectivePolicy): DomainError {
  return impersonationError(
    'member_impersonation_not_allowed',
    policy.disabledBy === 'project' ? 'Impersonation is disabled for this project.' : 'Impersonation is disabled for this organization.',
  );
}

/** Stytch's one factor of an impersonated session (reference §A.2). */
function impersonatedFactor(token: ImpersonationToken, at: string): AuthenticationFactor {
  return {
    type: 'impersonated',
    deliveryMethod: 'impersonation',
    createdAt: at,
    lastAuthenticatedAt: at,
    updatedAt: at,
    detail: {
      name: 'impersonated_factor',
      fields: { impersonator_id: token.impersonatorId, impersonator_email_address: token.impersonatorEmailAddress },
    },
  };
}

function ledgerEntry(token: ImpersonationToken, session: { memberSessionId: string; startedAt: string; expiresAt: string }): ImpersonatedSession {
  return {
    memberSessionId: session.memberSessionId,
    tokenId: token.tokenId,
    organizationId: token.organizationId,
    memberId: token.memberId,
    impersonatorId: token.impersonatorId,
    impersonatorEmailAddress: token.impersonatorEmailAddress,
    reason: token.reason,
    startedAt: session.startedAt,
    expiresAt: session.expiresAt,
    endedAt: null,
    endReason: null,
  };
}
