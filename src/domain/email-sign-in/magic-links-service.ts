import type { RbacPolicyService } from '../rbac/policy-service.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { isDomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_SHARE, FOR_UPDATE } from '../common/read-for-update.js';
import type { Transactional } from '../common/transactional.js';
import type { MailDelivery } from '../mail/outgoing-email.js';
import { memberError } from '../members/errors.js';
import { checkMemberName, checkMetadata, newMember, normalizeEmail, type Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import type { RedirectUrlResolver } from '../redirect-urls/redirect-urls.js';
import type { AuthOutcome } from '../sessions/sign-in/auth-outcome.js';
import type { SignIn, SignInOptions } from '../sessions/sign-in/pipeline.js';
import { checkExpirationMinutes, EMAIL_CREDENTIAL_MINUTES } from './email-credential.js';
import { emailIdOf } from './email-factor.js';
import { checkInvitesAllowed, checkMethodAllowed, retryOnceOnDuplicate } from './email-member-rules.js';
import { SignInRefusal, type EmailProofs } from './email-proofs.js';
import type { EmailSignInPorts } from './email-sign-in-subject.js';
import { emailSignInError } from './errors.js';
import { MagicLinkVerifier } from './magic-link-verifier.js';
import { requireOrganization } from '../organizations/require-organization.js';
import { loginOrSignupTransaction, resolveAhead, urlOrThrow, type MemberSent } from './organization-sends.js';
import { checkCodeChallenge } from './pkce.js';
import { checkLocale } from './send-checks.js';

export interface MagicLinkLoginOrSignupInput {
  readonly organizationId: string;
  readonly emailAddress: string;
  readonly loginRedirectUrl?: string | undefined;
  readonly signupRedirectUrl?: string | undefined;
  readonly pkceCodeChallenge?: string | undefined;
  readonly locale?: string | undefined;
  readonly loginExpirationMinutes?: number | undefined;
  readonly signupExpirationMinutes?: number | undefined;
}

export interface MagicLinkInviteInput {
  readonly organizationId: string;
  readonly emailAddress: string;
  readonly inviteRedirectUrl?: string | undefined;
  readonly invitedByMemberId?: string | undefined;
  readonly name?: string | undefined;
  readonly trustedMetadata?: Record<string, unknown> | undefined;
  readonly untrustedMetadata?: Record<string, unknown> | undefined;
  readonly locale?: string | undefined;
  readonly roles?: readonly string[] | undefined;
  readonly inviteExpirationMinutes?: number | undefined;
}

export interface MagicLinkAuthenticateInput extends SignInOptions {
  readonly magicLinksToken: string;
  readonly pkceCodeVerifier?: string | undefined;
  readonly locale?: string | undefined;
}

/** A sign-in's outcome and the `method_id` Stytch answers with it: the id of the member's address. */
export interface EmailSignedIn {
  readonly outcome: AuthOutcome;
  readonly methodId: string;
}

/**
 * Magic links of an organization: login_or_signup (an active member gets a login link; a new,
 * pending or invited one a signup link, a new one joining just in time when the organization lets
 * them), invite, and authenticate. A send writes its member changes, the link and its audit event
 * in one transaction and hands the message to the mail port after it commits, so a failed delivery
 * never undoes the member and a refused send writes nothing.
 */
export class MagicLinksService {
  readonly #store: Transactional<EmailSignInPorts>;
  readonly #signIn: SignIn<EmailSignInPorts>;
  readonly #proofs: EmailProofs;
  readonly #mail: MailDelivery;
  readonly #redirectUrls: RedirectUrlResolver;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  readonly #rbacPolicy: Pick<RbacPolicyService, 'checkAssignable'>;

  constructor(dependencies: {
    store: Transactional<EmailSignInPorts>;
    signIn: SignIn<EmailSignInPorts>;
    proofs: EmailProofs;
    mail: MailDelivery;
    redirectUrls: RedirectUrlResolver;
    clock: Clock;
    ids: IdGenerator;
    audit: AuditRecorder;
    /** The roles members may be given (the project's policy and the organization's own). */
    rbacPolicy: Pick<RbacPolicyService, 'checkAssignable'>;
  }) {
    this.#store = dependencies.store;
    this.#signIn = dependencies.signIn;
    this.#proofs = dependencies.proofs;
    this.#mail = dependencies.mail;
    this.#redirectUrls = dependencies.redirectUrls;
    this.#clock = dependencies.clock;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
    this.#rbacPolicy = dependencies.rbacPolicy;
  }

  /** magicLinks.email.loginOrSignup. */
  async loginOrSignup(context: OperationContext, input: MagicLinkLoginOrSignupInput): Promise<MemberSent> {
    const emailAddress = normalizeEmail(input.emailAddress);
    const locale = checkLocale(input.locale);
    const minutes = {
      login: checkExpirationMinutes('login_expiration_minutes', input.loginExpirationMinutes, EMAIL_CREDENTIAL_MINUTES.magicLink),
      signup: checkExpirationMinutes('signup_expiration_minutes', input.signupExpirationMinutes, EMAIL_CREDENTIAL_MINUTES.magicLink),
    };
    const pkceCodeChallenge = checkCodeChallenge(input.pkceCodeChallenge);
    await this.#proofs.countSend(context, emailAddress);
    const urls = {
      login: await resolveAhead(this.#redirectUrls, 'login', input.loginRedirectUrl),
      signup: await resolveAhead(this.#redirectUrls, 'signup', input.signupRedirectUrl),
    };
    const dependencies = { store: this.#store, ids: this.#ids, clock: this.#clock, audit: this.#audit };
    const { organization, target, proof } = await loginOrSignupTransaction(dependencies, context, { organizationId: input.organizationId, emailAddress, method: 'magic_link' }, async (tx, organization, target) => {
      const issued = await this.#proofs.issueMagicLink(tx, {
        kind: 'magic_link',
        purpose: target.purpose,
        organizationId: organization.organizationId,
        memberId: target.member.memberId,
        emailAddress,
        minutes: minutes[target.purpose],
        redirectUrl: urlOrThrow(urls[target.purpose]),
        pkceCodeChallenge,
      });
      await this.#recordSent(tx, context, target.member, { purpose: target.purpose, expiresAt: issued.expiresAt, memberCreated: target.created, pkce: pkceCodeChallenge !== null });
      return issued;
    });
    this.#mail.deliver(context, {
      template: target.purpose,
      to: emailAddress,
      locale,
      link: proof.link,
      expiresAt: proof.expiresAt,
      organizationName: organization.organizationName,
      organizationId: organization.organizationId,
      memberId: target.member.memberId,
    });
    return { member: target.member, organization, memberCreated: target.created };
  }

  /**
   * magicLinks.email.invite: a new address becomes an `invited` member (with the name, metadata and
   * roles given, checked as members.create checks them); a `pending` one becomes `invited`; an
   * `invited` one gets a fresh link (earlier ones keep working until they expire); an `active` one is
   * refused. Revoking an invitation is deleting the member, which deletes their links.
   */
  async invite(context: OperationContext, input: MagicLinkInviteInput): Promise<MemberSent> {
    const emailAddress = normalizeEmail(input.emailAddress);
    const locale = checkLocale(input.locale);
    const minutes = checkExpirationMinutes('invite_expiration_minutes', input.inviteExpirationMinutes, EMAIL_CREDENTIAL_MINUTES.invite);
    const name = checkMemberName(input.name ?? '');
    const trustedMetadata = checkMetadata(input.trustedMetadata ?? {}, 'trusted_metadata');
    const untrustedMetadata = checkMetadata(input.untrustedMetadata ?? {}, 'untrusted_metadata');
    await this.#proofs.countSend(context, emailAddress);
    const url = await resolveAhead(this.#redirectUrls, 'invite', input.inviteRedirectUrl);
    const sent = await retryOnceOnDuplicate(() =>
      this.#store.transaction(async (tx) => {
        const organization = await requireOrganization(tx, input.organizationId, FOR_SHARE);
        checkInvitesAllowed(organization, emailAddress);
        const inviter = await this.#inviter(tx, organization, input.invitedByMemberId);
        const at = toTimestamp(this.#clock.now());
        const invited = await this.#invitee(tx, context, organization, emailAddress, at, { name, trustedMetadata, untrustedMetadata, roles: input.roles ?? [] });
        const { link, expiresAt } = await this.#proofs.issueMagicLink(tx, {
          kind: 'magic_link',
          purpose: 'invite',
          organizationId: organization.organizationId,
          memberId: invited.member.memberId,
          emailAddress,
          minutes,
          redirectUrl: urlOrThrow(url),
          pkceCodeChallenge: null,
        });
        await this.#audit.record(tx.audit, context, {
          type: 'member.invited',
          organizationId: organization.organizationId,
          memberId: invited.member.memberId,
          occurredAt: at,
          details: { invited_by_member_id: inviter?.memberId ?? null, member_created: invited.created, expires_at: expiresAt },
        });
        return { ...invited, organization, inviter, link, expiresAt };
      }),
    );
    const inviterName = sent.inviter === undefined ? undefined : sent.inviter.name === '' ? sent.inviter.emailAddress : sent.inviter.name;
    this.#mail.deliver(context, {
      template: 'invite',
      to: emailAddress,
      locale,
      link: sent.link,
      expiresAt: sent.expiresAt,
      organizationName: sent.organization.organizationName,
      ...(inviterName !== undefined && { inviterName }),
      organizationId: sent.organization.organizationId,
      memberId: sent.member.memberId,
    });
    return { member: sent.member, organization: sent.organization, memberCreated: sent.created };
  }

  /**
   * magicLinks.authenticate: spends an organization's magic link (never a discovery one) and signs
   * its member in through the pipeline, which decides between a session and an intermediate session
   * (MFA). Every refusal of a presented link is audited as `member.sign_in_refused`.
   */
  async authenticate(context: OperationContext, input: MagicLinkAuthenticateInput): Promise<EmailSignedIn> {
    checkLocale(input.locale);
    const verifier = new MagicLinkVerifier(
      { proofs: this.#proofs, clock: this.#clock, environment: this.#ids.environment },
      { token: input.magicLinksToken, pkceCodeVerifier: input.pkceCodeVerifier },
    );
    try {
      const outcome = await this.#signIn.signIn(context, verifier, input);
      return { outcome, methodId: emailIdOf(this.#ids.environment, outcome.member.emailAddress, outcome.member.memberId) };
    } catch (error) {
      if (error instanceof SignInRefusal) return this.#proofs.refuse(context, error);
      // The link was good but the pipeline refused the sign-in (the intermediate session presented
      // is another member's, say): its transaction rolled the link back; the attempt is still recorded.
      if (isDomainError(error) && verifier.verified !== undefined) {
        return this.#proofs.refuse(context, new SignInRefusal(error, error.code, { ...verifier.verified, method: 'magic_link' }));
      }
      throw error;
    }
  }

  /** `invited_by_member_id`, when given, must be a live member of the organization: their name goes into the message. */
  async #inviter(tx: EmailSignInPorts, organization: Organization, memberId: string | undefined): Promise<Member | undefined> {
    if (memberId === undefined || memberId === '') return undefined;
    const inviter = await tx.members.findMember(organization.organizationId, memberId);
    if (inviter === undefined || inviter.status === 'deleted') throw memberError('member_not_found', 'invited_by_member_id names no member of this organization.');
    return inviter;
  }

  /** The member an invitation goes to, created or moved to `invited` (locked: organization, then member). */
  async #invitee(
    tx: EmailSignInPorts,
    context: OperationContext,
    organization: Organization,
    emailAddress: string,
    at: string,
    given: { name: string; trustedMetadata: Record<string, unknown>; untrustedMetadata: Record<string, unknown>; roles: readonly string[] },
  ): Promise<{ member: Member; created: boolean }> {
    // Checked whether or not the member exists: an invitation never ignores a wrong role silently.
    const roles = await this.#rbacPolicy.checkAssignable(given.roles, organization, tx);
    const found = await tx.members.findMemberByEmail(organization.organizationId, emailAddress);
    const existing = found === undefined ? undefined : await tx.members.findMemberById(found.memberId, FOR_UPDATE);
    if (existing !== undefined && existing.status !== 'deleted') {
      if (existing.status === 'active') throw emailSignInError('member_already_active');
      // The link is a magic link: an organization whose auth_methods forbid them could not accept it.
      checkMethodAllowed(organization, existing, 'magic_link');
      const invited = await tx.members.markInvited(organization.organizationId, existing.memberId, at);
      if (invited === undefined || invited.status === 'deleted') throw memberError('member_not_found');
      return { member: invited, created: false };
    }
    checkMethodAllowed(organization, undefined, 'magic_link');
    const member = newMember({
      memberId: this.#ids.next('member'),
      organization,
      emailAddress,
      status: 'invited',
      at,
      overrides: {
        name: given.name,
        assignedRoles: roles,
        trustedMetadata: given.trustedMetadata,
        untrustedMetadata: given.untrustedMetadata,
      },
    });
    await tx.members.insertMember(member);
    await this.#audit.record(tx.audit, context, {
      type: 'member.created',
      organizationId: organization.organizationId,
      memberId: member.memberId,
      occurredAt: at,
      details: { status: member.status, roles: member.assignedRoles, by: 'invite' },
    });
    return { member, created: true };
  }

  async #recordSent(
    tx: EmailSignInPorts,
    context: OperationContext,
    member: Member,
    sent: { purpose: 'login' | 'signup'; expiresAt: string; memberCreated: boolean; pkce: boolean },
  ): Promise<void> {
    await this.#audit.record(tx.audit, context, {
      type: 'magic_link.sent',
      organizationId: member.organizationId,
      memberId: member.memberId,
      details: { purpose: sent.purpose, expires_at: sent.expiresAt, member_created: sent.memberCreated, pkce: sent.pkce },
    });
  }
}
