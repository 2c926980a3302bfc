import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { isDomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_SHARE } from '../common/read-for-update.js';
import type { Transactional } from '../common/transactional.js';
import { checkExpirationMinutes, EMAIL_CREDENTIAL_MINUTES } from '../email-sign-in/email-credential.js';
import { emailIdOf } from '../email-sign-in/email-factor.js';
import { checkMethodAllowed } from '../email-sign-in/email-member-rules.js';
import { SignInRefusal, type EmailProofs } from '../email-sign-in/email-proofs.js';
import { resolveAhead, urlOrThrow } from '../email-sign-in/organization-sends.js';
import { checkCodeChallenge } from '../email-sign-in/pkce.js';
import { checkLocale } from '../email-sign-in/send-checks.js';
import type { MailDelivery } from '../mail/outgoing-email.js';
import { memberError } from '../members/errors.js';
import { normalizeEmail, type Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import { requireOrganization } from '../organizations/require-organization.js';
import type { StorePorts } from '../ports.js';
import type { RedirectUrlResolver } from '../redirect-urls/redirect-urls.js';
import type { SessionsService } from '../sessions/sessions-service.js';
import type { AuthOutcome } from '../sessions/sign-in/auth-outcome.js';
import type { SignIn, SignInOptions } from '../sessions/sign-in/pipeline.js';
import type { MemberPasswords } from './member-passwords.js';
import { PASSWORD_EMAIL_RESET, PasswordResetVerifier, previewResetToken, type KeptSession } from './password-reset-verifier.js';
import type { PasswordHash } from './stored-password.js';

export interface PasswordResetStartInput {
  readonly organizationId: string;
  readonly emailAddress: string;
  readonly resetPasswordRedirectUrl?: string | undefined;
  readonly resetPasswordExpirationMinutes?: number | undefined;
  /** `code_challenge` on the wire. */
  readonly codeChallenge?: string | undefined;
  readonly loginRedirectUrl?: string | undefined;
  readonly locale?: string | undefined;
}

export interface PasswordResetInput extends SignInOptions {
  readonly passwordResetToken: string;
  readonly password: string;
  /** `code_verifier` on the wire. */
  readonly codeVerifier?: string | undefined;
  readonly locale?: string | undefined;
}

/** What resetStart answers: the member the message went to, and the id of their address. */
export interface PasswordResetSent {
  readonly member: Member;
  readonly organization: Organization;
  readonly memberEmailId: string;
}

/** What reset answers: the sign-in's outcome, and the id of the member's address. */
export interface PasswordResetDone {
  readonly outcome: AuthOutcome;
  readonly memberEmailId: string;
}

/**
 * Password resets by email in an organization (passwords.email.resetStart and .reset), which is also
 * how a member sets their first password. The message carries the reset link and, when the
 * organization allows magic links, an ordinary login magic link ("sign in without a password").
 * The reset spends the link, saves the new password, verifies the address and ends the member's
 * other sessions in the sign-in's one transaction; the new password is judged and hashed before it.
 */
export class PasswordResetsService {
  readonly #store: Transactional<StorePorts>;
  readonly #signIn: SignIn<StorePorts>;
  readonly #proofs: EmailProofs;
  readonly #passwords: Pick<MemberPasswords, 'hashNewPassword' | 'savePassword'>;
  readonly #sessions: Pick<SessionsService, 'resolveLive' | 'revokeMemberSessionsIn' | 'revokeSessionsIn'>;
  readonly #mail: MailDelivery;
  readonly #redirectUrls: RedirectUrlResolver;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;

  constructor(dependencies: {
    store: Transactional<StorePorts>;
    signIn: SignIn<StorePorts>;
    proofs: EmailProofs;
    passwords: Pick<MemberPasswords, 'hashNewPassword' | 'savePassword'>;
    sessions: Pick<SessionsService, 'resolveLive' | 'revokeMemberSessionsIn' | 'revokeSessionsIn'>;
    mail: MailDelivery;
    redirectUrls: RedirectUrlResolver;
    clock: Clock;
    ids: IdGenerator;
    audit: AuditRecorder;
  }) {
    this.#store = dependencies.store;
    this.#signIn = dependencies.signIn;
    this.#proofs = dependencies.proofs;
    this.#passwords = dependencies.passwords;
    this.#sessions = dependencies.sessions;
    this.#mail = dependencies.mail;
    this.#redirectUrls = dependencies.redirectUrls;
    this.#clock = dependencies.clock;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
  }

  /**
   * passwords.email.resetStart. The address must be a live member's (Stytch answers
   * `member_not_found` otherwise, as here) whom the organization's `auth_methods` let use a password.
   * Both links share the reset link's lifetime and PKCE challenge: the browser that asked for the
   * reset holds the verifier, whichever link the member follows.
   */
  async resetStart(context: OperationContext, input: PasswordResetStartInput): Promise<PasswordResetSent> {
    const emailAddress = normalizeEmail(input.emailAddress);
    const locale = checkLocale(input.locale);
    const minutes = checkExpirationMinutes('reset_password_expiration_minutes', input.resetPasswordExpirationMinutes, EMAIL_CREDENTIAL_MINUTES.passwordReset);
    const pkceCodeChallenge = checkCodeChallenge(input.codeChallenge);
    await this.#proofs.countSend(context, emailAddress);
    const urls = {
      reset: await resolveAhead(this.#redirectUrls, 'reset_password', input.resetPasswordRedirectUrl),
      login: await resolveAhead(this.#redirectUrls, 'login', input.loginRedirectUrl),
    };
    const sent = await this.#store.transaction(async (tx) => {
      const organization = await requireOrganization(tx, input.organizationId, FOR_SHARE);
      const member = await tx.members.findMemberByEmail(organization.organizationId, emailAddress);
      if (member === undefined) throw memberError('member_not_found');
      checkMethodAllowed(organization, member, 'password');
      const link = { organizationId: organization.organizationId, memberId: member.memberId, emailAddress, minutes, pkceCodeChallenge };
      const reset = await this.#proofs.issueMagicLink(tx, { ...link, kind: 'password_reset', purpose: 'reset_password', redirectUrl: urlOrThrow(urls.reset) });
      // Without magic links allowed, a login link would only be refused when followed: the message goes without it.
      const login = allowsMagicLinks(organization, member)
        ? await this.#proofs.issueMagicLink(tx, { ...link, kind: 'magic_link', purpose: 'login', redirectUrl: urlOrThrow(urls.login) })
        : undefined;
      await this.#audit.record(tx.audit, context, {
        type: 'password_reset.sent',
        organizationId: organization.organizationId,
        memberId: member.memberId,
        details: { expires_at: reset.expiresAt, pkce: pkceCodeChallenge !== null, login_link: login !== undefined },
      });
      return { organization, member, reset, login };
    });
    this.#mail.deliver(context, {
      template: 'reset_password',
      to: emailAddress,
      locale,
      link: sent.reset.link,
      ...(sent.login !== undefined && { loginLink: sent.login.link }),
      expiresAt: sent.reset.expiresAt,
      organizationName: sent.organization.organizationName,
      organizationId: sent.organization.organizationId,
      memberId: sent.member.memberId,
    });
    return { member: sent.member, organization: sent.organization, memberEmailId: emailIdOf(this.#ids.environment, emailAddress, sent.member.memberId) };
  }

  /**
   * passwords.email.reset. The token is read first (nothing written) so that a token that cannot be
   * spent is refused before any hashing, and the new password is judged with its member's address
   * and name; a password the policy refuses leaves the token unspent. Then the sign-in pipeline runs
   * the PasswordResetVerifier. Every refusal is audited as `member.sign_in_refused`.
   */
  async reset(context: OperationContext, input: PasswordResetInput): Promise<PasswordResetDone> {
    checkLocale(input.locale);
    try {
      const preview = await previewResetToken(this.#proofs, this.#store, {
        token: input.passwordResetToken,
        kind: 'password_reset',
        pkceCodeVerifier: input.codeVerifier,
        method: PASSWORD_EMAIL_RESET,
        at: toTimestamp(this.#clock.now()),
      });
      const member = preview.memberId === null ? undefined : await this.#store.members.findMemberById(preview.memberId);
      const hash = await this.#hashNewPassword(input.password, [preview.emailAddress, member?.name ?? ''], { organizationId: preview.organizationId, memberId: preview.memberId });
      const verifier = new PasswordResetVerifier(
        { proofs: this.#proofs, passwords: this.#passwords, sessions: this.#sessions, clock: this.#clock },
        { token: input.passwordResetToken, pkceCodeVerifier: input.codeVerifier, hash, kept: await this.#presentedSession(input) },
      );
      const outcome = await this.#signInOrRefuse(context, verifier, input);
      return { outcome, memberEmailId: emailIdOf(this.#ids.environment, outcome.member.emailAddress, outcome.member.memberId) };
    } catch (error) {
      if (error instanceof SignInRefusal) return this.#proofs.refuse(context, error);
      throw error;
    }
  }

  async #signInOrRefuse(context: OperationContext, verifier: PasswordResetVerifier, input: PasswordResetInput): Promise<AuthOutcome> {
    try {
      return await this.#signIn.signIn(context, verifier, input);
    } catch (error) {
      // The token was good but the pipeline refused the sign-in (another member's intermediate
      // session, say): its transaction rolled everything back, the token unspent; the attempt is recorded.
      if (isDomainError(error) && verifier.verified !== undefined) throw new SignInRefusal(error, error.code, { ...verifier.verified, method: PASSWORD_EMAIL_RESET });
      throw error;
    }
  }

  /** The new password judged by the policy and hashed, outside any transaction; a refusal is a SignInRefusal (audited). */
  async #hashNewPassword(password: string, userInputs: readonly string[], scope: { organizationId: string | null; memberId: string | null }): Promise<PasswordHash> {
    try {
      return await this.#passwords.hashNewPassword(password, userInputs);
    } catch (error) {
      if (isDomainError(error) && (error.code === 'weak_password' || error.code === 'breached_password')) {
        throw new SignInRefusal(error, error.code, { ...scope, method: PASSWORD_EMAIL_RESET });
      }
      throw error;
    }
  }

  /** The session presented by token or JWT, to be kept when it is the member's; the pipeline refuses two presented at once itself. */
  async #presentedSession(input: PasswordResetInput): Promise<KeptSession | undefined> {
    const { sessionToken, sessionJwt } = input;
    if ((sessionToken === undefined) === (sessionJwt === undefined)) return undefined;
    const { session } = await this.#sessions.resolveLive({ sessionToken, sessionJwt });
    return { memberSessionId: session.memberSessionId, memberId: session.memberId };
  }
}

/** Whether the organization's `auth_methods` let the member sign in by magic link (checkMethodAllowed, as a question). */
function allowsMagicLinks(organization: Organization, member: Member): boolean {
  try {
    checkMethodAllowed(organization, member, 'magic_link');
    return true;
  } catch (error) {
    if (isDomainError(error)) return false;
    throw error;
  }
}
