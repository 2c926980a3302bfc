import { oneTimeCodeMatches } from '../../crypto/one-time-code.js';
import { toTimestamp, type Clock } from '../../platform/clock.js';
import type { Environment } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { applyMfaChanges, recordMfaUpdate } from './member-mfa-state.js';
import type { DomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import { emailSignInError } from '../email-sign-in/errors.js';
import type { Member } from '../members/member.js';
import type { StorePorts } from '../ports.js';
import type { AuthenticationFactor } from '../sessions/session.js';
import { KeptRefusal, type SignInVerifier, type VerifiedFactor } from '../sessions/sign-in/verifier.js';
import { mfaError } from './errors.js';
import type { MfaGuessLimit } from './mfa-guess-limit.js';
import { requireLiveMember } from '../members/require-live-member.js';
import { mfaStateAfterSecondFactor, requireActiveMember, requireEnrolmentProof, requireMfaMethodAllowed } from './mfa-rules.js';
import { phoneIdOf, smsFactor } from './phone-numbers.js';
import { SMS_CODE_MAX_ATTEMPTS, type SmsCode } from './sms-code.js';
import { checkGuessBound } from './mfa-refusals.js';

/** What otps.sms.authenticate presents besides the session arguments (the pipeline's SignInOptions). */
export interface PresentedSmsCode {
  readonly organizationId: string;
  readonly memberId: string;
  readonly code: string;
  readonly setMfaEnrollment: 'enroll' | 'unenroll' | undefined;
  readonly setDefaultMfa: boolean | undefined;
  /** The factors of the session or intermediate session presented (SecondFactorProof.require, before the transaction). */
  readonly presentedFactors: readonly AuthenticationFactor[];
}

const CODE_GONE = 'No SMS code of this member can be used: none was sent, it expired (codes last 2 minutes), it was used, five wrong codes or a newer code voided it, or the phone number changed since. Send another code.';
const CODE_WRONG = "The SMS code is wrong. Each wrong code counts: towards voiding this code (the fifth does) and towards the member's bound on wrong codes of every kind.";

/**
 * otps.sms.authenticate's sign-in method: a second factor, checked and spent inside the pipeline's
 * transaction. The organization (shared) and the member (for update) are locked first, then the
 * member's code row: the lock order, so concurrent guesses are judged one at a time and of
 * concurrent sign-ins with the right code exactly one spends it. A code is live while unspent,
 * unexpired, under five wrong attempts and addressed to the member's current number. A wrong code
 * is counted, against the code and against the member's guess bound it shares with TOTP and
 * recovery codes (mfa-guess-limit.ts: new sends would otherwise give a guesser five more tries each),
 * and audited, and those writes are kept although the sign-in is refused (KeptRefusal).
 * The right one verifies the member's number and sets their MFA state (mfa_enrolled,
 * default_mfa_method), written with only those columns.
 *
 * Verifying a number is enrolling it: while the number is unverified, a member who has another
 * active second factor (a TOTP) must present a session or intermediate session holding a second
 * factor. Otherwise a number linked before the TOTP (by someone with the password, say) would be a
 * way past it. Judged on the member as locked, before the code is looked at: nothing is written.
 */
export class SmsOtpVerifier implements SignInVerifier<StorePorts> {
  readonly #presented: PresentedSmsCode;
  readonly #clock: Clock;
  readonly #environment: Environment;
  readonly #guesses: Pick<MfaGuessLimit, 'check' | 'countFailure'>;
  readonly #audit: AuditRecorder;

  constructor(
    dependencies: { clock: Clock; environment: Environment; guesses: Pick<MfaGuessLimit, 'check' | 'countFailure'>; audit: AuditRecorder },
    presented: PresentedSmsCode,
  ) {
    this.#presented = presented;
    this.#clock = dependencies.clock;
    this.#environment = dependencies.environment;
    this.#guesses = dependencies.guesses;
    this.#audit = dependencies.audit;
  }

  async verify(tx: StorePorts, context: OperationContext): Promise<VerifiedFactor<StorePorts>> {
    const { organization, member } = await requireLiveMember(tx, this.#presented.organizationId, this.#presented.memberId, { locked: true });
    requireActiveMember(member);
    requireMfaMethodAllowed(organization, member, 'sms_otp');
    if (!member.mfaPhoneNumberVerified) requireEnrolmentProof(member, organization, this.#presented.presentedFactors);
    await checkGuessBound(tx, { guesses: this.#guesses, audit: this.#audit }, context, member, 'sms_otp');
    const at = toTimestamp(this.#clock.now());
    const code = await tx.smsCodes.findSmsCodeForUpdate(member.memberId);
    const dead = code === undefined ? 'not_found' : whyDead(code, member, at);
    if (code === undefined || dead !== undefined) throw await this.#refuse(tx, context, member, emailSignInError('otp_code_not_found', CODE_GONE), { why: dead });
    if (!oneTimeCodeMatches(code.smsCodeId, this.#presented.code, Buffer.from(code.digest, 'hex'))) {
      const failedAttempts = await tx.smsCodes.countFailedAttempt(code.smsCodeId);
      await this.#guesses.countFailure(tx, member.memberId);
      throw await this.#refuse(tx, context, member, emailSignInError('unable_to_auth_otp_code', CODE_WRONG), { why: 'wrong_code', failed_attempts: failedAttempts });
    }
    // The row is locked, so this always wins; conditional all the same, as single use must never rest on a read.
    if (!(await tx.smsCodes.consumeSmsCode(code.smsCodeId, at))) throw emailSignInError('otp_code_not_found', CODE_GONE);
    if (!member.mfaPhoneNumberVerified) await requireNumberUnclaimed(tx, member);
    const changes = { mfaPhoneNumberVerified: true, ...mfaStateAfterSecondFactor(member, organization, 'sms_otp', this.#presented) };
    const stored = await applyMfaChanges(tx, member, changes, at);
    await recordMfaUpdate(tx, this.#audit, context, member, stored, { method: 'sms_otp' });
    return {
      member: stored,
      organization,
      factor: smsFactor(phoneIdOf(this.#environment, member.memberId, code.phoneNumber), code.phoneNumber, at),
      secondFactor: true,
      signInMethod: 'sms_otp',
    };
  }

  /** Records the refusal in the transaction (with what the verifier counted) and returns it for the pipeline to commit and throw. */
  async #refuse(tx: StorePorts, context: OperationContext, member: Member, error: DomainError, details: Record<string, unknown>): Promise<KeptRefusal> {
    await this.#audit.record(tx.audit, context, {
      type: 'member.sign_in_refused',
      organizationId: member.organizationId,
      memberId: member.memberId,
      details: { method: 'sms_otp', error_type: error.code, ...details },
    });
    return new KeptRefusal(error);
  }
}

/** Why a stored code can no longer be used; undefined while it can. */
function whyDead(code: SmsCode, member: Member, at: string): string | undefined {
  if (code.consumedAt !== null) return 'already_used';
  if (code.expiresAt <= at) return 'expired';
  if (code.failedAttempts >= SMS_CODE_MAX_ATTEMPTS) return 'too_many_attempts';
  // Sent to a number the member no longer has (deleteMFAPhoneNumber, members.update): it proves nothing about the current one.
  if (code.phoneNumber !== member.mfaPhoneNumber || code.organizationId !== member.organizationId) return 'phone_number_changed';
  return undefined;
}

/** A number is one member's in an organization: another member who verified it first keeps it. */
async function requireNumberUnclaimed(tx: StorePorts, member: Member): Promise<void> {
  const holders = await tx.members.findMembersWithVerifiedPhoneNumber(member.organizationId, member.mfaPhoneNumber);
  if (holders.some((holder) => holder.memberId !== member.memberId)) throw mfaError('duplicate_member_phone_number');
}
