import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { DomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import { isRedeemable, type EmailCredential, type EmailCredentialKind } from '../email-sign-in/email-credential.js';
import { SignInRefusal, type EmailProofs } from '../email-sign-in/email-proofs.js';
import { lockSubject, type EmailSubject } from '../email-sign-in/email-sign-in-subject.js';
import { checkMethodAllowed } from '../email-sign-in/email-member-rules.js';
import { checkCodeVerifier } from '../email-sign-in/pkce.js';
import type { Member } from '../members/member.js';
import type { StorePorts } from '../ports.js';
import type { SessionsService } from '../sessions/sessions-service.js';
import type { SignInVerifier, VerifiedFactor } from '../sessions/sign-in/verifier.js';
import { passwordError } from './errors.js';
import { passwordFactor, type MemberPasswords } from './member-passwords.js';
import type { PasswordHash } from './stored-password.js';

/** The `method` of passwords.email.reset's audit events. */
export const PASSWORD_EMAIL_RESET = 'password_email_reset';

/** A member session presented with a reset: kept (it gets the password factor) when it is the member's own. */
export interface KeptSession {
  readonly memberSessionId: string;
  readonly memberId: string;
}

type TokenPorts = Parameters<EmailProofs['findMagicLink']>[0];

/**
 * A refusal of a reset token in the words of the password endpoints: an unknown, spent or expired
 * token (or one of another kind) is `unable_to_auth_password_reset_token`; PKCE refusals and the
 * others stay as they are.
 */
export function asResetRefusal(error: unknown): unknown {
  if (!(error instanceof SignInRefusal)) return error;
  const code = error.refusal.code;
  if (code !== 'magic_link_not_found' && code !== 'unable_to_auth_magic_link') return error;
  return new SignInRefusal(passwordError('unable_to_auth_password_reset_token'), error.why, error.scope, error.recorded);
}

/**
 * Reads a reset token before anything is hashed or written: it must be one of ours of `kind`,
 * neither spent nor expired, and the PKCE verifier must fit its challenge; otherwise a
 * SignInRefusal (in the password endpoints' words). Nothing is spent: the sign-in's transaction
 * checks all of it again and spends it, so a new password refused by the policy leaves the token
 * usable. Returns the stored token, whose address and member the new password is judged against.
 */
export async function previewResetToken(
  proofs: Pick<EmailProofs, 'findMagicLink'>,
  ports: TokenPorts,
  input: { readonly token: string; readonly kind: EmailCredentialKind; readonly pkceCodeVerifier: string | undefined; readonly method: string; readonly at: string },
): Promise<EmailCredential> {
  const found = await proofs.findMagicLink(ports, input.token);
  const refuse = (error: DomainError, why: string, credential?: EmailCredential): SignInRefusal =>
    new SignInRefusal(error, why, { organizationId: credential?.organizationId ?? null, memberId: credential?.memberId ?? null, method: input.method });
  const unusable = passwordError('unable_to_auth_password_reset_token');
  if (found === undefined) throw refuse(unusable, 'not_found');
  const { credential } = found;
  if (credential.kind !== input.kind) throw refuse(unusable, 'wrong_token_type');
  if (!isRedeemable(credential, input.at)) throw refuse(unusable, credential.consumedAt === null ? 'expired' : 'already_used', credential);
  try {
    checkCodeVerifier(credential.pkceCodeChallenge, input.pkceCodeVerifier);
  } catch (error) {
    throw refuse(error as DomainError, 'pkce_failed', credential);
  }
  return credential;
}

/**
 * passwords.email.reset's sign-in method. Inside the pipeline's transaction: whom the token names is
 * locked (organization, then member), the token spent (of concurrent resets with it exactly one
 * wins), the new password (hashed before the transaction) saved, the member made active with a
 * verified address (the token came by mail to it), and every other session of theirs revoked. The
 * factor is the password only. Every refusal is a SignInRefusal, audited by the caller.
 */
export class PasswordResetVerifier implements SignInVerifier<StorePorts> {
  readonly #proofs: Pick<EmailProofs, 'findMagicLink' | 'spendMagicLink'>;
  readonly #passwords: Pick<MemberPasswords, 'savePassword'>;
  readonly #sessions: Pick<SessionsService, 'revokeMemberSessionsIn' | 'revokeSessionsIn'>;
  readonly #clock: Clock;
  readonly #input: { readonly token: string; readonly pkceCodeVerifier: string | undefined; readonly hash: PasswordHash; readonly kept: KeptSession | undefined };
  /** Whom the token was for, once it was found and spent: a refusal by the pipeline after that is filed under them. */
  verified: { readonly organizationId: string | null; readonly memberId: string | null } | undefined;

  constructor(
    dependencies: {
      proofs: Pick<EmailProofs, 'findMagicLink' | 'spendMagicLink'>;
      passwords: Pick<MemberPasswords, 'savePassword'>;
      sessions: Pick<SessionsService, 'revokeMemberSessionsIn' | 'revokeSessionsIn'>;
      clock: Clock;
    },
    input: { token: string; pkceCodeVerifier: string | undefined; hash: PasswordHash; kept: KeptSession | undefined },
  ) {
    this.#proofs = dependencies.proofs;
    this.#passwords = dependencies.passwords;
    this.#sessions = dependencies.sessions;
    this.#clock = dependencies.clock;
    this.#input = input;
  }

  async verify(tx: StorePorts, context: OperationContext): Promise<VerifiedFactor<StorePorts>> {
    // A plain read first, to lock whom the token names before its row is spent (lockSubject).
    const found = await this.#proofs.findMagicLink(tx, this.#input.token);
    const subject: EmailSubject = found?.credential.kind === 'password_reset' ? await lockSubject(tx, found.credential) : { organization: undefined, member: undefined };
    let credential: EmailCredential;
    try {
      credential = await this.#proofs.spendMagicLink(tx, found, ['password_reset'], this.#input.pkceCodeVerifier, PASSWORD_EMAIL_RESET);
    } catch (error) {
      throw asResetRefusal(error);
    }
    const scope = { organizationId: credential.organizationId, memberId: credential.memberId, method: PASSWORD_EMAIL_RESET };
    // A member deleted since the send: their tokens went with them, so a later attempt gets this anyway.
    const gone = (why: string) => new SignInRefusal(passwordError('unable_to_auth_password_reset_token'), why, scope);
    const { organization, member } = subject;
    if (organization === undefined) throw gone('organization_deleted');
    if (member === undefined || member.status === 'deleted' || member.organizationId !== organization.organizationId) throw gone('member_deleted');
    if (member.emailAddress !== credential.emailAddress) throw gone('member_email_changed');
    try {
      checkMethodAllowed(organization, member, 'password');
    } catch (error) {
      throw new SignInRefusal(error as DomainError, 'method_not_allowed', scope);
    }
    this.verified = { organizationId: credential.organizationId, memberId: credential.memberId };
    const at = toTimestamp(this.#clock.now());
    // The mailed token proves the address: a cross-organization password is set for the address's
    // other members too (MemberPasswords.savePassword), whose sessions end with it.
    const settled = member.status === 'active' && member.emailAddressVerified;
    const activated = settled ? member : await tx.members.markSignedInByEmail(organization.organizationId, member.memberId, at);
    if (activated === undefined) throw gone('member_deleted');
    const saved = await this.#passwords.savePassword(tx, context, activated, this.#input.hash, 'email_reset', {
      addressProved: true,
      alsoChanged: (other) => this.#sessions.revokeMemberSessionsIn(tx, context, other),
    });
    if (saved === undefined) throw gone('member_deleted');
    await this.#revokeSessions(tx, context, saved);
    return { member: saved, organization, factor: passwordFactor(at), signInMethod: PASSWORD_EMAIL_RESET };
  }

  /** Every live session of the member ends, but the one presented with the reset, which gets the password factor (sessions.reset keeps its own the same way). */
  async #revokeSessions(tx: StorePorts, context: OperationContext, member: Member): Promise<void> {
    const kept = this.#input.kept;
    if (kept === undefined || kept.memberId !== member.memberId) {
      await this.#sessions.revokeMemberSessionsIn(tx, context, member);
      return;
    }
    const live = await tx.sessions.listLiveSessions(member.organizationId, member.memberId, toTimestamp(this.#clock.now()));
    await this.#sessions.revokeSessionsIn(tx, context, live.filter((session) => session.memberSessionId !== kept.memberSessionId));
  }
}
