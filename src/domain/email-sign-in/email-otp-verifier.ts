import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { Environment } from '../../platform/ids.js';
import type { SignInVerifier, VerifiedFactor } from '../sessions/sign-in/verifier.js';
import type { EmailCredential } from './email-credential.js';
import type { EmailProofs } from './email-proofs.js';
import { checkSubject, lockSubject, signInSubject, type EmailSignInPorts } from './email-sign-in-subject.js';
import { emailSignInError } from './errors.js';

/**
 * otps.email.authenticate's sign-in method: a one-time code that `EmailProofs.checkCode` already
 * matched (in a transaction of its own, so wrong guesses stay counted), spent here inside the
 * pipeline's transaction, so of concurrent sign-ins with one code exactly one gets a session.
 */
export class EmailOtpVerifier implements SignInVerifier<EmailSignInPorts> {
  readonly #credential: EmailCredential;
  readonly #proofs: Pick<EmailProofs, 'spendCode'>;
  readonly #clock: Clock;
  readonly #environment: Environment;

  constructor(dependencies: { proofs: Pick<EmailProofs, 'spendCode'>; clock: Clock; environment: Environment }, credential: EmailCredential) {
    this.#credential = credential;
    this.#proofs = dependencies.proofs;
    this.#clock = dependencies.clock;
    this.#environment = dependencies.environment;
  }

  async verify(tx: EmailSignInPorts): Promise<VerifiedFactor<EmailSignInPorts>> {
    const credential = this.#credential;
    const rules = { method: 'email_otp' as const, gone: () => emailSignInError('otp_code_not_found'), at: toTimestamp(this.#clock.now()), environment: this.#environment };
    // Organization and member first, then the code's row: the lock order (lockSubject). They are
    // judged before the code is spent, so a member deleted meanwhile (their codes deleted with
    // them) gets the error of a code that is gone rather than of one already used.
    const checked = checkSubject(await lockSubject(tx, credential), credential, rules);
    await this.#proofs.spendCode(tx, credential, 'email_otp');
    return signInSubject(tx, checked, credential, rules);
  }
}
