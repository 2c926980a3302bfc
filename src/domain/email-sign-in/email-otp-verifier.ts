import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Environment } from '../../platform/ids.js';
import { KeptRefusal, type SignInVerifier, type VerifiedFactor } from '../sessions/sign-in/verifier.js';
import type { EmailProofs } from './email-proofs.js';
import { SignInRefusal } from './email-proofs.js';
import { checkSubject, lockSubject, signInSubject, type EmailSignInPorts, type EmailSubject } from './email-sign-in-subject.js';
import { emailSignInError } from './errors.js';

/** What otps.email.authenticate presents: the code, and the organization and address it was sent for. */
export interface PresentedCode {
  readonly organizationId: string;
  /** Canonical (normalizeEmail). */
  readonly emailAddress: string;
  readonly code: string;
}

/**
 * otps.email.authenticate's sign-in method: a one-time code, checked and spent inside the
 * pipeline's transaction. Its organization and member are locked first (the lock order), then the
 * code's row, so concurrent guesses are compared one at a time and of concurrent sign-ins with the
 * right code exactly one gets a session. A wrong code is counted (five void it) and audited, and
 * those writes are kept although the sign-in is refused (KeptRefusal).
 */
export class EmailOtpVerifier implements SignInVerifier<EmailSignInPorts> {
  readonly #presented: PresentedCode;
  readonly #proofs: Pick<EmailProofs, 'checkCodeIn' | 'spendCode'>;
  readonly #clock: Clock;
  readonly #environment: Environment;
  /** Whom the code was for, once it matched: a refusal by the pipeline after that is filed under them. */
  verified: { readonly organizationId: string | null; readonly memberId: string | null } | undefined;

  constructor(dependencies: { proofs: Pick<EmailProofs, 'checkCodeIn' | 'spendCode'>; clock: Clock; environment: Environment }, presented: PresentedCode) {
    this.#presented = presented;
    this.#proofs = dependencies.proofs;
    this.#clock = dependencies.clock;
    this.#environment = dependencies.environment;
  }

  async verify(tx: EmailSignInPorts, context: OperationContext): Promise<VerifiedFactor<EmailSignInPorts>> {
    const { organizationId, emailAddress, code } = this.#presented;
    // A plain read first, to lock whom the newest code names before its row is locked and judged.
    const seen = await tx.emailCredentials.findLatestCode('email_otp', organizationId, emailAddress);
    const subject: EmailSubject = seen === undefined ? { organization: undefined, member: undefined } : await lockSubject(tx, seen.credential);
    const checked = await this.#proofs.checkCodeIn(tx, context, 'email_otp', organizationId, emailAddress, code, 'email_otp');
    if (checked instanceof SignInRefusal) throw new KeptRefusal(checked);
    const rules = { method: 'email_otp' as const, gone: () => emailSignInError('otp_code_not_found'), at: toTimestamp(this.#clock.now()), environment: this.#environment };
    // A newer code sent meanwhile names the same organization and address; its member is the one locked unless that changed too.
    const locked: EmailSubject = subject.member?.memberId === checked.memberId ? subject : { organization: subject.organization, member: undefined };
    // Judged before the code is spent: a member deleted meanwhile (their codes deleted with them)
    // gets the error of a code that is gone rather than of one already used.
    const member = checkSubject(locked, checked, rules);
    await this.#proofs.spendCode(tx, checked, 'email_otp');
    this.verified = { organizationId: checked.organizationId, memberId: checked.memberId };
    return signInSubject(tx, member, checked, rules);
  }
}
