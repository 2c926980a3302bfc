import type { Clock } from '../../platform/clock.js';
import { requireOrganization } from '../organizations/require-organization.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_SHARE } from '../common/read-for-update.js';
import { entryRequirements } from '../discovery/discovered-organizations.js';
import { isEmailProof, memberForAddress, proofFor } from '../discovery/exchange-rules.js';
import type { StorePorts } from '../ports.js';
import { sessionError } from './errors.js';
import { isImpersonated, isLive } from './session.js';
import type { SessionsService } from './sessions-service.js';
import type { SessionRecord } from './sessions-store.js';
import type { AuthOutcome } from './sign-in/auth-outcome.js';
import type { SignIn } from './sign-in/pipeline.js';
import type { SignInVerifier, VerifiedExchange } from './sign-in/verifier.js';

export interface ExchangeSessionInput {
  /** An organization id, slug or external id. */
  readonly organizationId: string;
  readonly sessionToken?: string | undefined;
  readonly sessionJwt?: string | undefined;
  readonly sessionDurationMinutes?: number | undefined;
  readonly sessionCustomClaims?: Record<string, unknown> | undefined;
  /** The language of an SMS code sent when MFA is required (one of Stytch's SMS locales). */
  readonly locale?: string | undefined;
}

/**
 * sessions.exchange: a member moves from their session into another organization where their
 * address is a member too (invited, pending or active; Stytch documents that it does not join an
 * organization by email domain). The new session carries the source session's proofs of the
 * address (magic links and codes); other factors (a password, MFA) belong to the source member and
 * stay behind. The source session is left as it is. Like discovery's exchange it runs through the
 * sign-in pipeline as an exchange, so the target organization's MFA policy or `auth_methods` may
 * answer an intermediate session instead.
 */
export class SessionExchange {
  readonly #signIn: SignIn<StorePorts>;
  readonly #sessions: Pick<SessionsService, 'resolveLive'>;
  readonly #ids: IdGenerator;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;

  constructor(dependencies: { signIn: SignIn<StorePorts>; sessions: Pick<SessionsService, 'resolveLive'>; ids: IdGenerator; clock: Clock; audit: AuditRecorder }) {
    this.#signIn = dependencies.signIn;
    this.#sessions = dependencies.sessions;
    this.#ids = dependencies.ids;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
  }

  async exchange(context: OperationContext, input: ExchangeSessionInput): Promise<AuthOutcome> {
    const { sessionToken, sessionJwt } = input;
    if (sessionToken === undefined && sessionJwt === undefined) throw sessionError('no_session_arguments');
    if (sessionToken !== undefined && sessionJwt !== undefined) throw sessionError('too_many_session_arguments');
    const source = await this.#sessions.resolveLive({ sessionToken, sessionJwt });
    // Someone acting as the member must not carry that access into the member's other organizations.
    if (isImpersonated(source.session)) throw sessionError('session_not_mutable_impersonated', 'An impersonated session cannot be exchanged for a session in another organization.');
    const verifier: SignInVerifier<StorePorts> = { verify: (tx, verifyContext) => this.#verify(tx, verifyContext, source, input.organizationId) };
    return this.#signIn.signIn(context, verifier, { sessionDurationMinutes: input.sessionDurationMinutes, sessionCustomClaims: input.sessionCustomClaims, locale: input.locale });
  }

  async #verify(tx: StorePorts, context: OperationContext, source: SessionRecord, reference: string): Promise<VerifiedExchange> {
    const organization = await requireOrganization(tx, reference, FOR_SHARE);
    // Read again in the transaction: a session revoked since it was resolved carries nothing.
    const current = await tx.sessions.findSessionById(source.session.memberSessionId);
    if (current === undefined || !isLive(current.session, toTimestamp(this.#clock.now())) || current.member.status === 'deleted') throw sessionError('session_not_found');
    const { emailAddress } = current.member;
    // Only proofs of the address the member has now: one of an address they changed proves nothing about this one.
    const proofs = current.session.authenticationFactors.filter((factor) => isEmailProof(factor) && factor.detail?.fields.email_address === emailAddress);
    const existing = await tx.members.findMemberByEmail(organization.organizationId, emailAddress);
    const { primaryRequired } = entryRequirements(organization, existing ?? null, emailAddress, proofs);
    const rules = { ids: this.#ids, clock: this.#clock, audit: this.#audit };
    const member = await memberForAddress(tx, rules, context, organization, emailAddress, { existing, signIn: primaryRequired === null, jit: false });
    return {
      member,
      organization,
      carriedFactors: proofs.map((factor) => proofFor(factor, this.#ids.environment, member)),
      primaryRequired,
      signInMethod: 'session_exchange',
      auditDetails: { from_member_session_id: current.session.memberSessionId },
    };
  }
}
