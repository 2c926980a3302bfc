import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { isDomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import { emptyAsAbsent } from '../common/optional-text.js';
import { FOR_SHARE, FOR_UPDATE } from '../common/read-for-update.js';
import type { Transactional } from '../common/transactional.js';
import type { DiscoveryAuthenticated, DiscoveryService } from '../discovery/discovery-service.js';
import { checkExpirationMinutes, EMAIL_CREDENTIAL_MINUTES, type EmailCredential } from '../email-sign-in/email-credential.js';
import { SignInRefusal, type EmailProofs } from '../email-sign-in/email-proofs.js';
import { checkCodeChallenge } from '../email-sign-in/pkce.js';
import { checkLocale } from '../email-sign-in/send-checks.js';
import type { MailDelivery } from '../mail/outgoing-email.js';
import { normalizeEmail, type Member } from '../members/member.js';
import type { StorePorts } from '../ports.js';
import type { RedirectUrlResolver } from '../redirect-urls/redirect-urls.js';
import type { SessionsService } from '../sessions/sessions-service.js';
import { passwordError } from './errors.js';
import { ACROSS_ORGANIZATIONS, passwordFactor, type MemberPasswords } from './member-passwords.js';
import { asResetRefusal, previewResetToken } from './password-reset-verifier.js';
import type { PasswordHash } from './stored-password.js';

export interface DiscoveryPasswordResetStartInput {
  readonly emailAddress: string;
  readonly resetPasswordRedirectUrl?: string | undefined;
  readonly discoveryRedirectUrl?: string | undefined;
  readonly resetPasswordExpirationMinutes?: number | undefined;
  readonly pkceCodeChallenge?: string | undefined;
  readonly locale?: string | undefined;
}

export interface DiscoveryPasswordResetInput {
  readonly passwordResetToken: string;
  readonly password: string;
  readonly pkceCodeVerifier?: string | undefined;
}

/** The `method` of the audit events of each operation. */
const METHOD = { authenticate: 'discovery_password', reset: 'discovery_password_reset' } as const;

type Passwords = Pick<MemberPasswords, 'settings' | 'proveAcrossOrganizations' | 'confirmAcrossOrganizations' | 'hashNewPassword' | 'savePassword'>;

/**
 * Passwords shared across organizations (`cross_org_passwords_enabled`): one password per address,
 * proved before an organization is chosen. Signing in with it, or resetting it by email, starts an
 * intermediate session bound to the address alone, as discovery's magic links and codes do
 * (discovery-service.ts), with a password factor. A reset sets the password of every live member
 * with the address. With passwords per organization, all three are refused
 * (`cross_org_passwords_not_enabled`).
 */
export class DiscoveryPasswordsService {
  readonly #store: Transactional<StorePorts>;
  readonly #proofs: EmailProofs;
  readonly #passwords: Passwords;
  readonly #sessions: Pick<SessionsService, 'revokeMemberSessionsIn'>;
  readonly #discovery: Pick<DiscoveryService, 'startIntermediateSession'>;
  readonly #mail: MailDelivery;
  readonly #redirectUrls: RedirectUrlResolver;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;

  constructor(dependencies: {
    store: Transactional<StorePorts>;
    proofs: EmailProofs;
    passwords: Passwords;
    sessions: Pick<SessionsService, 'revokeMemberSessionsIn'>;
    discovery: Pick<DiscoveryService, 'startIntermediateSession'>;
    mail: MailDelivery;
    redirectUrls: RedirectUrlResolver;
    clock: Clock;
    audit: AuditRecorder;
  }) {
    this.#store = dependencies.store;
    this.#proofs = dependencies.proofs;
    this.#passwords = dependencies.passwords;
    this.#sessions = dependencies.sessions;
    this.#discovery = dependencies.discovery;
    this.#mail = dependencies.mail;
    this.#redirectUrls = dependencies.redirectUrls;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
  }

  /**
   * passwords.discovery.authenticate: the address's password (checked outside any transaction, with
   * the lock counted per address across organizations), then in one transaction the proof
   * re-checked and the intermediate session started.
   */
  async authenticate(context: OperationContext, input: { readonly emailAddress: string; readonly password: string }): Promise<DiscoveryAuthenticated> {
    this.#requireCrossOrgPasswords();
    const emailAddress = normalizeEmail(input.emailAddress);
    const proof = await this.#passwords.proveAcrossOrganizations(context, emailAddress, input.password, METHOD.authenticate);
    return this.#store.transaction(async (tx) => {
      await this.#passwords.confirmAcrossOrganizations(tx, proof);
      return this.#discovery.startIntermediateSession(tx, context, emailAddress, passwordFactor, METHOD.authenticate);
    });
  }

  /**
   * passwords.discovery.email.resetStart: the reset link and a discovery magic link ("continue
   * without a password"), sharing one lifetime and PKCE challenge. An address no live member has
   * gets the same answer and no message, so the answer never tells who has an account.
   */
  async resetStart(context: OperationContext, input: DiscoveryPasswordResetStartInput): Promise<void> {
    this.#requireCrossOrgPasswords();
    const emailAddress = normalizeEmail(input.emailAddress);
    const locale = checkLocale(input.locale);
    const minutes = checkExpirationMinutes('reset_password_expiration_minutes', input.resetPasswordExpirationMinutes, EMAIL_CREDENTIAL_MINUTES.passwordReset);
    const pkceCodeChallenge = checkCodeChallenge(input.pkceCodeChallenge);
    await this.#proofs.countSend(context, emailAddress);
    // Both resolved whether or not the address is known: a bad URL is refused either way.
    const resetUrl = await this.#redirectUrls.resolve('reset_password', emptyAsAbsent(input.resetPasswordRedirectUrl));
    const discoveryUrl = await this.#redirectUrls.resolve('discovery', emptyAsAbsent(input.discoveryRedirectUrl));
    const sent = await this.#store.transaction(async (tx) => {
      if ((await tx.members.findLiveMembersByEmail(emailAddress)).length === 0) return undefined;
      const link = { organizationId: null, memberId: null, emailAddress, minutes, pkceCodeChallenge };
      const reset = await this.#proofs.issueMagicLink(tx, { ...link, kind: 'discovery_password_reset', purpose: 'reset_password', redirectUrl: resetUrl });
      const login = await this.#proofs.issueMagicLink(tx, { ...link, kind: 'discovery_magic_link', purpose: 'discovery', redirectUrl: discoveryUrl });
      await this.#audit.record(tx.audit, context, {
        type: 'password_reset.sent',
        organizationId: null,
        details: { purpose: 'discovery', email_address: emailAddress, expires_at: reset.expiresAt, pkce: pkceCodeChallenge !== null },
      });
      return { reset, login };
    });
    if (sent === undefined) return;
    this.#mail.deliver(context, {
      template: 'discovery_reset_password',
      to: emailAddress,
      locale,
      link: sent.reset.link,
      loginLink: sent.login.link,
      expiresAt: sent.reset.expiresAt,
      organizationId: null,
      memberId: null,
    });
  }

  /**
   * passwords.discovery.email.reset. As for an organization's reset, the token is read and the new
   * password judged and hashed before the transaction (a refused password leaves the token
   * unspent). In one transaction then: the token spent, the password saved for every live member
   * with the address, their sessions ended, the addresses of active members marked verified, and an
   * intermediate session started. Pending and invited members stay so until they enter their
   * organization (discovery.intermediateSessions.exchange activates them there, as after a discovery
   * magic link). Every refusal is audited as `member.sign_in_refused`.
   */
  async reset(context: OperationContext, input: DiscoveryPasswordResetInput): Promise<DiscoveryAuthenticated> {
    this.#requireCrossOrgPasswords();
    try {
      const preview = await previewResetToken(this.#proofs, this.#store, {
        token: input.passwordResetToken,
        kind: 'discovery_password_reset',
        pkceCodeVerifier: input.pkceCodeVerifier,
        method: METHOD.reset,
        at: toTimestamp(this.#clock.now()),
      });
      const hash = await this.#hashNewPassword(input.password, preview.emailAddress);
      return await this.#store.transaction((tx) => this.#reset(tx, context, input, hash));
    } catch (error) {
      if (error instanceof SignInRefusal) return this.#proofs.refuse(context, error);
      throw error;
    }
  }

  async #reset(tx: StorePorts, context: OperationContext, input: DiscoveryPasswordResetInput, hash: PasswordHash): Promise<DiscoveryAuthenticated> {
    // A plain read first, to lock the address's members before the token's row is spent (the lock order).
    const found = await this.#proofs.findMagicLink(tx, input.passwordResetToken);
    const members = found?.credential.kind === 'discovery_password_reset' ? await lockMembers(tx, found.credential.emailAddress) : [];
    let credential: EmailCredential;
    try {
      credential = await this.#proofs.spendMagicLink(tx, found, ['discovery_password_reset'], input.pkceCodeVerifier, METHOD.reset);
    } catch (error) {
      throw asResetRefusal(error);
    }
    const { emailAddress } = credential;
    // Every member with the address left since the send: there is no password to set.
    if (members.length === 0) throw new SignInRefusal(passwordError('unable_to_auth_password_reset_token'), 'no_member', { organizationId: null, memberId: null, method: METHOD.reset });
    const at = toTimestamp(this.#clock.now());
    // One password per address: saved for one member, it is saved for all of them (MemberPasswords.savePassword).
    await this.#passwords.savePassword(tx, context, members[0] as Member, hash, 'discovery_email_reset', { addressProved: true });
    for (const member of members) {
      if (member.status === 'active' && !member.emailAddressVerified) await tx.members.markSignedInByEmail(member.organizationId, member.memberId, at);
      await this.#sessions.revokeMemberSessionsIn(tx, context, member);
    }
    await tx.passwords.clearFailures(ACROSS_ORGANIZATIONS, emailAddress);
    return this.#discovery.startIntermediateSession(tx, context, emailAddress, passwordFactor, METHOD.reset);
  }

  /** The new password judged by the policy and hashed, outside any transaction; a refusal is a SignInRefusal (audited). */
  async #hashNewPassword(password: string, emailAddress: string): Promise<PasswordHash> {
    try {
      return await this.#passwords.hashNewPassword(password, [emailAddress]);
    } catch (error) {
      if (isDomainError(error) && (error.code === 'weak_password' || error.code === 'breached_password')) {
        throw new SignInRefusal(error, error.code, { organizationId: null, memberId: null, method: METHOD.reset });
      }
      throw error;
    }
  }

  #requireCrossOrgPasswords(): void {
    if (!this.#passwords.settings.crossOrgPasswordsEnabled) throw passwordError('cross_org_passwords_not_enabled');
  }
}

/**
 * The live members with the address, locked in the lock order across several organizations: every
 * organization (shared) first, then every member (for update), each in order of id, so two resets of
 * one address, or a reset and a change in one of its organizations, never wait for each other in a
 * circle.
 */
async function lockMembers(tx: StorePorts, emailAddress: string): Promise<Member[]> {
  const live = (await tx.members.findLiveMembersByEmail(emailAddress)).sort((a, b) => compare(a.organizationId, b.organizationId) || compare(a.memberId, b.memberId));
  const organizations = new Set<string>();
  for (const member of live) {
    if (!organizations.has(member.organizationId) && (await tx.organizations.findOrganization(member.organizationId, FOR_SHARE)) !== undefined) organizations.add(member.organizationId);
  }
  const locked: Member[] = [];
  for (const member of live) {
    if (!organizations.has(member.organizationId)) continue;
    const current = await tx.members.findMemberById(member.memberId, FOR_UPDATE);
    if (current !== undefined && current.status !== 'deleted' && current.emailAddress === emailAddress) locked.push(current);
  }
  return locked;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
