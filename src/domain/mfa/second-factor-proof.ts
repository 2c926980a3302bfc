import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import { isDomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import type { Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import type { AuthenticationFactor } from '../sessions/session.js';
import { holdsAllowedPrimary } from '../sessions/sign-in/second-factor.js';
import { mfaError } from './errors.js';
import type { EnrolmentGuard, PresentedProof } from './mfa-rules.js';

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
  readonly #guard: Pick<EnrolmentGuard, 'presentedFactors'>;
  readonly #audit: AuditRecorder;

  constructor(dependencies: { store: Transactional<{ audit: AuditStore }>; guard: Pick<EnrolmentGuard, 'presentedFactors'>; audit: AuditRecorder }) {
    this.#store = dependencies.store;
    this.#guard = dependencies.guard;
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

  /** The enrolment guard's resolution (at most one token, the member's, never an impersonation), made stricter: one is required, and an intermediate session must hold an allowed primary factor. */
  async #judge(proof: PresentedProof, member: Member, organization: Organization): Promise<readonly AuthenticationFactor[]> {
    const factors = await this.#guard.presentedFactors(proof, member);
    if (factors === undefined) throw mfaError('mfa_session_arguments_required');
    if (proof.intermediateSessionToken !== undefined && !holdsAllowedPrimary(factors, member, organization)) {
      throw mfaError('action_available_only_once_primary_authentication_is_met');
    }
    return factors;
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
