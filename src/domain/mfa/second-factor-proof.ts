import type { Clock } from '../../platform/clock.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import { isDomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import type { AuthenticationFactor } from '../sessions/session.js';
import { toTimestamp } from '../../platform/clock.js';
import type { Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import { sessionError } from '../sessions/errors.js';
import { requireUsableIntermediateSession } from '../sessions/find-intermediate-session.js';
import { isImpersonated } from '../sessions/session.js';
import type { SessionsService } from '../sessions/sessions-service.js';
import type { SessionsStore } from '../sessions/sessions-store.js';
import { factorsInto, secondFactorStanding } from '../sessions/sign-in/second-factor.js';
import { mfaError } from './errors.js';
import type { PresentedProof } from './mfa-rules.js';

/** Where a refused proof is recorded: the call's context and the second factor it came with. */
export interface ProofRefusalRecord {
  readonly context: OperationContext;
  /** `totp`, `recovery_code` or `sms_otp`, as `member.signed_in` names the method. */
  readonly method: string;
}

/**
 * Before a second factor's code is judged, the session arguments it comes with are judged the way
 * the sign-in pipeline will judge them (pipeline.ts, for a second factor), with the same errors:
 * exactly one of them; an intermediate session of this member holding a primary factor the
 * organization allows (second-factor.ts), or a live session of this member that is not
 * impersonated. So a caller without such a proof learns nothing about a code, and uses up none of
 * the member's guesses (mfa-guess-limit.ts). The pipeline decides again in its transaction; this
 * only refuses earlier. Every refusal is an attempt to get past MFA without the member's own proof
 * (or to add a factor to an impersonation), so it is recorded as `member.sign_in_refused` in a
 * transaction of its own, and nothing else is written.
 */
export class SecondFactorProof {
  readonly #store: Transactional<{ audit: AuditStore }>;
  readonly #sessionsStore: Pick<SessionsStore, 'findIntermediateSessionByTokenLookupId'>;
  readonly #sessions: Pick<SessionsService, 'resolveLive'>;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;

  constructor(dependencies: {
    store: Transactional<{ audit: AuditStore }>;
    sessionsStore: Pick<SessionsStore, 'findIntermediateSessionByTokenLookupId'>;
    sessions: Pick<SessionsService, 'resolveLive'>;
    clock: Clock;
    audit: AuditRecorder;
  }) {
    this.#store = dependencies.store;
    this.#sessionsStore = dependencies.sessionsStore;
    this.#sessions = dependencies.sessions;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
  }

  /**
   * The factors the presented proof holds in this organization (an intermediate session's, or the
   * session's), after judging it; a refusal is recorded when `record` says where.
   */
  async require(proof: PresentedProof, member: Member, organization: Organization, record?: ProofRefusalRecord): Promise<readonly AuthenticationFactor[]> {
    try {
      return await this.#judge(proof, member, organization);
    } catch (error) {
      if (record !== undefined && isDomainError(error)) await this.#recordRefusal(record, member, error.code);
      throw error;
    }
  }

  async #judge(proof: PresentedProof, member: Member, organization: Organization): Promise<readonly AuthenticationFactor[]> {
    const { intermediateSessionToken, sessionToken, sessionJwt } = proof;
    if (sessionToken !== undefined && sessionJwt !== undefined) throw sessionError('too_many_session_arguments');
    const presentsSession = sessionToken !== undefined || sessionJwt !== undefined;
    if (presentsSession && intermediateSessionToken !== undefined) {
      throw sessionError('too_many_session_arguments', 'Provide only one of session_token, session_jwt and intermediate_session_token.');
    }
    if (presentsSession) {
      const { session } = await this.#sessions.resolveLive({ sessionToken, sessionJwt });
      if (session.memberId !== member.memberId) throw mfaError('member_session_member_id_mismatch');
      if (isImpersonated(session)) throw sessionError('session_not_mutable_impersonated');
      return session.authenticationFactors;
    }
    if (intermediateSessionToken === undefined) throw mfaError('mfa_session_arguments_required');
    const intermediate = await requireUsableIntermediateSession(this.#sessionsStore, intermediateSessionToken, toTimestamp(this.#clock.now()));
    const standing = secondFactorStanding(intermediate, member, organization);
    if (standing === 'another_member') throw sessionError('invalid_intermediate_session_token_for_organization');
    if (standing === 'primary_unmet') throw mfaError('action_available_only_once_primary_authentication_is_met');
    return factorsInto(intermediate, organization.organizationId);
  }

  async #recordRefusal(record: ProofRefusalRecord, member: Member, errorType: string): Promise<void> {
    await this.#store.transaction((tx) =>
      this.#audit.record(tx.audit, record.context, {
        type: 'member.sign_in_refused',
        organizationId: member.organizationId,
        memberId: member.memberId,
        details: { method: record.method, why: 'session_arguments', error_type: errorType },
      }),
    );
  }
}
