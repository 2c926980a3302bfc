import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { isDomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import type { MailDelivery } from '../mail/outgoing-email.js';
import { normalizeEmail } from '../members/member.js';
import type { SignIn, SignInOptions } from '../sessions/sign-in/pipeline.js';
import { checkExpirationMinutes, EMAIL_CREDENTIAL_MINUTES } from './email-credential.js';
import { emailIdOf } from './email-factor.js';
import { EmailOtpVerifier } from './email-otp-verifier.js';
import { SignInRefusal, type EmailProofs } from './email-proofs.js';
import type { EmailSignInPorts } from './email-sign-in-subject.js';
import type { EmailSignedIn } from './magic-links-service.js';
import { requireOrganization } from '../organizations/require-organization.js';
import { loginOrSignupTransaction, type MemberSent } from './organization-sends.js';
import { checkLocale } from './send-checks.js';

export interface EmailOtpLoginOrSignupInput {
  readonly organizationId: string;
  readonly emailAddress: string;
  readonly locale?: string | undefined;
  readonly loginExpirationMinutes?: number | undefined;
  readonly signupExpirationMinutes?: number | undefined;
}

export interface EmailOtpAuthenticateInput extends SignInOptions {
  readonly organizationId: string;
  readonly emailAddress: string;
  readonly code: string;
  readonly locale?: string | undefined;
}

/**
 * One-time codes by email for an organization: login_or_signup (the same login, signup and
 * just-in-time rules as magic links, with `email_otp`) and authenticate. A code is keyed by the
 * organization and the address; a new one voids the earlier ones, and five wrong guesses void it.
 */
export class EmailOtpsService {
  readonly #store: Transactional<EmailSignInPorts>;
  readonly #signIn: SignIn<EmailSignInPorts>;
  readonly #proofs: EmailProofs;
  readonly #mail: MailDelivery;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;

  constructor(dependencies: {
    store: Transactional<EmailSignInPorts>;
    signIn: SignIn<EmailSignInPorts>;
    proofs: EmailProofs;
    mail: MailDelivery;
    clock: Clock;
    ids: IdGenerator;
    audit: AuditRecorder;
  }) {
    this.#store = dependencies.store;
    this.#signIn = dependencies.signIn;
    this.#proofs = dependencies.proofs;
    this.#mail = dependencies.mail;
    this.#clock = dependencies.clock;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
  }

  /** otps.email.loginOrSignup: the code goes out in the otp_login message to an active member, otp_signup otherwise. */
  async loginOrSignup(context: OperationContext, input: EmailOtpLoginOrSignupInput): Promise<MemberSent> {
    const emailAddress = normalizeEmail(input.emailAddress);
    const locale = checkLocale(input.locale);
    const minutes = {
      login: checkExpirationMinutes('login_expiration_minutes', input.loginExpirationMinutes, EMAIL_CREDENTIAL_MINUTES.oneTimeCode),
      signup: checkExpirationMinutes('signup_expiration_minutes', input.signupExpirationMinutes, EMAIL_CREDENTIAL_MINUTES.oneTimeCode),
    };
    await this.#proofs.countSend(context, emailAddress);
    const dependencies = { store: this.#store, ids: this.#ids, clock: this.#clock, audit: this.#audit };
    const { organization, target, proof } = await loginOrSignupTransaction(dependencies, context, { organizationId: input.organizationId, emailAddress, method: 'email_otp' }, async (tx, organization, target) => {
      const issued = await this.#proofs.issueCode(tx, {
        kind: 'email_otp',
        purpose: target.purpose,
        organizationId: organization.organizationId,
        memberId: target.member.memberId,
        emailAddress,
        minutes: minutes[target.purpose],
      });
      await this.#audit.record(tx.audit, context, {
        type: 'email_otp.sent',
        organizationId: organization.organizationId,
        memberId: target.member.memberId,
        details: { purpose: target.purpose, expires_at: issued.expiresAt, member_created: target.created },
      });
      return issued;
    });
    this.#mail.deliver(context, {
      template: target.purpose === 'login' ? 'otp_login' : 'otp_signup',
      to: emailAddress,
      locale,
      code: proof.code,
      expiresAt: proof.expiresAt,
      organizationName: organization.organizationName,
      organizationId: organization.organizationId,
      memberId: target.member.memberId,
    });
    return { member: target.member, organization, memberCreated: target.created };
  }

  /**
   * otps.email.authenticate: the code is checked and spent inside the pipeline's transaction
   * (EmailOtpVerifier); a wrong guess stays counted although the sign-in is refused. A code sent
   * for another organization is not found here. Every refusal is audited.
   */
  async authenticate(context: OperationContext, input: EmailOtpAuthenticateInput): Promise<EmailSignedIn> {
    const emailAddress = normalizeEmail(input.emailAddress);
    checkLocale(input.locale);
    const organization = await requireOrganization(this.#store, input.organizationId);
    const verifier = new EmailOtpVerifier(
      { proofs: this.#proofs, clock: this.#clock, environment: this.#ids.environment },
      { organizationId: organization.organizationId, emailAddress, code: input.code },
    );
    try {
      const outcome = await this.#signIn.signIn(context, verifier, input);
      return { outcome, methodId: emailIdOf(this.#ids.environment, outcome.member.emailAddress, outcome.member.memberId) };
    } catch (error) {
      if (error instanceof SignInRefusal) return this.#proofs.refuse(context, error);
      // The code was right but the pipeline refused the sign-in (another member's intermediate
      // session, say): its transaction rolled the code back; the attempt is still recorded.
      if (isDomainError(error) && verifier.verified !== undefined) return this.#proofs.refuse(context, new SignInRefusal(error, error.code, { ...verifier.verified, method: 'email_otp' }));
      throw error;
    }
  }
}
