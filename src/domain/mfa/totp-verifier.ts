import { verifyTotp } from '../../crypto/totp.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import type { MfaStateChanges } from '../members/members-store.js';
import type { StorePorts } from '../ports.js';
import type { AuthenticationFactor } from '../sessions/session.js';
import { KeptRefusal, type SignInVerifier, type VerifiedFactor } from '../sessions/sign-in/verifier.js';
import { mfaError } from './errors.js';
import type { MfaGuessLimit } from './mfa-guess-limit.js';
import { applyMfaChanges, recordMfaUpdate } from './member-mfa-state.js';
import { checkGuessBound, keptMfaRefusal } from './mfa-refusals.js';
import { requireLiveMember } from '../members/require-live-member.js';
import { mfaStateAfterSecondFactor, requireActiveMember, requireEnrolmentProof, requireMfaMethodAllowed } from './mfa-rules.js';
import type { MfaSealer } from './mfa-sealer.js';
import type { MemberTotp } from './totp-registration.js';

/** What totps.authenticate presents besides the session arguments. */
export interface PresentedTotp {
  readonly organizationId: string;
  readonly memberId: string;
  /** Six digits (checked before the sign-in starts). */
  readonly code: string;
  readonly setMfaEnrollment: 'enroll' | 'unenroll' | undefined;
  readonly setDefaultMfa: boolean | undefined;
  /** The factors of the session or intermediate session presented (SecondFactorProof.require). */
  readonly presentedFactors: readonly AuthenticationFactor[];
}

/** The factor a TOTP code adds to a session, as Stytch lists it. */
export function totpFactor(totpId: string, at: string): AuthenticationFactor {
  return {
    type: 'totp',
    deliveryMethod: 'authenticator_app',
    createdAt: at,
    lastAuthenticatedAt: at,
    updatedAt: at,
    detail: { name: 'authenticator_app_factor', fields: { totp_id: totpId } },
  };
}

/** Whether a registration can take a code at `at`: active, or pending before it lapses. */
export function isUsableTotp(totp: MemberTotp, at: string): boolean {
  return totp.status === 'active' || (totp.expiresAt !== null && totp.expiresAt > at);
}

/**
 * totps.authenticate's sign-in method, a second factor. Inside the pipeline's transaction, with the
 * organization and then the member locked (so one member's codes are judged one at a time), the
 * member must be active and allowed TOTP, within the guess bound, and have a registration that is
 * active or still pending. The code's 30-second step (±1) is then accepted at most once: the
 * conditional update of `last_used_step` lets exactly one of two requests with the same code through.
 * A wrong code is counted and audited, and those writes are kept although the sign-in is refused.
 * The first accepted code activates a pending registration; every success applies the member's
 * `set_mfa_enrollment` / default method rules.
 */
export class TotpVerifier implements SignInVerifier<StorePorts> {
  readonly #presented: PresentedTotp;
  readonly #clock: Clock;
  readonly #sealer: MfaSealer;
  readonly #guesses: MfaGuessLimit;
  readonly #audit: AuditRecorder;

  constructor(dependencies: { clock: Clock; sealer: MfaSealer; guesses: MfaGuessLimit; audit: AuditRecorder }, presented: PresentedTotp) {
    this.#presented = presented;
    this.#clock = dependencies.clock;
    this.#sealer = dependencies.sealer;
    this.#guesses = dependencies.guesses;
    this.#audit = dependencies.audit;
  }

  async verify(tx: StorePorts, context: OperationContext): Promise<VerifiedFactor<StorePorts>> {
    const { organization, member } = await requireLiveMember(tx, this.#presented.organizationId, this.#presented.memberId, { locked: true });
    requireActiveMember(member);
    requireMfaMethodAllowed(organization, member, 'totp');
    await checkGuessBound(tx, { guesses: this.#guesses, audit: this.#audit }, context, member, 'totp');
    const now = this.#clock.now();
    const at = toTimestamp(now);
    const totp = await tx.totps.findTotp(member.memberId, { forUpdate: true });
    if (totp === undefined || !isUsableTotp(totp, at)) throw mfaError('totp_not_found');
    // Activating a pending registration is enrolment: a member who meanwhile got another second
    // factor (a verified phone) activates it only with a proof holding that factor, or a pending
    // registration made while they had none would be a way around it.
    if (totp.status === 'pending') requireEnrolmentProof(member, organization, this.#presented.presentedFactors);
    const step = verifyTotp(this.#sealer.open(totp.totpId, totp.sealedSecret), this.#presented.code, now);
    if (step === undefined) {
      await this.#guesses.countFailure(tx, member.memberId);
      await this.#audit.record(tx.audit, context, {
        type: 'member.sign_in_refused',
        organizationId: organization.organizationId,
        memberId: member.memberId,
        details: { method: 'totp', why: 'wrong_code', error_type: 'unable_to_authenticate_totp', totp_registration_id: totp.totpId },
      });
      throw new KeptRefusal(mfaError('unable_to_authenticate_totp'));
    }
    // This step or a later one was accepted already: the same code twice (or an older one) is a replay.
    if (!(await tx.totps.acceptStep(totp.totpId, step, at))) {
      // Not a guess (the code was right once), but someone may have read it over the member's shoulder: recorded.
      const replayed = { why: 'replayed_code', totp_registration_id: totp.totpId };
      throw await keptMfaRefusal(tx, this.#audit, context, member, 'totp', mfaError('totp_code_already_authenticated'), replayed);
    }
    const changes: MfaStateChanges = {
      ...mfaStateAfterSecondFactor(member, organization, 'totp', { setMfaEnrollment: this.#presented.setMfaEnrollment, setDefaultMfa: this.#presented.setDefaultMfa }),
      // member.totp_registration_id names the registration once it is active, never a pending one.
      totpRegistrationId: totp.totpId,
    };
    const updated = await applyMfaChanges(tx, member, changes, at);
    await recordMfaUpdate(tx, this.#audit, context, member, updated, { method: 'totp', ...(totp.status === 'pending' && { activated_totp_registration_id: totp.totpId }) });
    return { member: updated, organization, factor: totpFactor(totp.totpId, at), secondFactor: true, signInMethod: 'totp' };
  }
}
