import { createOpaqueToken } from '../../crypto/opaque-token.js';
import { requireUsableIntermediateSession } from '../sessions/find-intermediate-session.js';
import { emptyAsAbsent } from '../common/optional-text.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import { checkExpirationMinutes, EMAIL_CREDENTIAL_MINUTES } from '../email-sign-in/email-credential.js';
import { emailFactor, emailIdOf } from '../email-sign-in/email-factor.js';
import { SignInRefusal, type EmailProofs } from '../email-sign-in/email-proofs.js';
import { checkCodeChallenge } from '../email-sign-in/pkce.js';
import { checkLocale } from '../email-sign-in/send-checks.js';
import type { MailDelivery } from '../mail/outgoing-email.js';
import { normalizeEmail } from '../members/member.js';
import type { StorePorts } from '../ports.js';
import type { RedirectUrlResolver } from '../redirect-urls/redirect-urls.js';
import { sessionError } from '../sessions/errors.js';
import { INTERMEDIATE_SESSION_MINUTES, type IntermediateSession } from '../sessions/intermediate-session.js';
import type { AuthenticationFactor } from '../sessions/session.js';
import type { SessionsService } from '../sessions/sessions-service.js';
import { discoverOrganizations, discoveryFactors, isPasswordFactor, type DiscoveredOrganization } from './discovered-organizations.js';

/** What a discovery authentication answers: the intermediate session for the address, and where it can go. */
export interface DiscoveryAuthenticated {
  readonly intermediateSessionToken: string;
  readonly emailAddress: string;
  readonly discoveredOrganizations: readonly DiscoveredOrganization[];
}

/** discovery.organizations.list's answer. */
export interface DiscoveryListing {
  readonly emailAddress: string;
  readonly discoveredOrganizations: readonly DiscoveredOrganization[];
  /** The organization the intermediate session was started for (an organization's sign-in awaiting MFA); null otherwise. */
  readonly organizationIdHint: string | null;
}

export interface DiscoverySendInput {
  readonly emailAddress: string;
  readonly locale?: string | undefined;
  readonly expirationMinutes?: number | undefined;
}

/** Which credential the caller presents to list organizations: exactly one of them. */
export interface DiscoveryListInput {
  readonly intermediateSessionToken?: string | undefined;
  readonly sessionToken?: string | undefined;
  readonly sessionJwt?: string | undefined;
}

const METHOD = { magicLink: 'discovery_magic_link', code: 'discovery_email_otp' } as const;

/**
 * Discovery: someone proves an email address (a magic link or a code) before choosing an
 * organization, and gets an intermediate session bound to the address alone, with the
 * organizations it can enter. Sends never reveal whether the address belongs to anyone: every
 * valid address gets the message and the same answer. Exchanging the intermediate session for a
 * member session, or creating an organization with it, happens elsewhere (discovery-exchange).
 */
export class DiscoveryService {
  readonly #store: Transactional<StorePorts>;
  readonly #proofs: EmailProofs;
  readonly #sessions: Pick<SessionsService, 'resolveLive'>;
  readonly #mail: MailDelivery;
  readonly #redirectUrls: RedirectUrlResolver;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;

  constructor(dependencies: {
    store: Transactional<StorePorts>;
    proofs: EmailProofs;
    sessions: Pick<SessionsService, 'resolveLive'>;
    mail: MailDelivery;
    redirectUrls: RedirectUrlResolver;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    audit: AuditRecorder;
  }) {
    this.#store = dependencies.store;
    this.#proofs = dependencies.proofs;
    this.#sessions = dependencies.sessions;
    this.#mail = dependencies.mail;
    this.#redirectUrls = dependencies.redirectUrls;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
  }

  /** magicLinks.email.discovery.send: a discovery magic link to the address, whoever it belongs to. */
  async sendMagicLink(
    context: OperationContext,
    input: DiscoverySendInput & { readonly redirectUrl?: string | undefined; readonly pkceCodeChallenge?: string | undefined },
  ): Promise<void> {
    const emailAddress = normalizeEmail(input.emailAddress);
    const minutes = checkExpirationMinutes('discovery_expiration_minutes', input.expirationMinutes, EMAIL_CREDENTIAL_MINUTES.discoveryMagicLink);
    const locale = checkLocale(input.locale);
    const pkceCodeChallenge = checkCodeChallenge(input.pkceCodeChallenge);
    // Counted once the request is known to be well formed, before anything is written.
    await this.#proofs.countSend(context, emailAddress);
    const redirectUrl = await this.#redirectUrls.resolve('discovery', emptyAsAbsent(input.redirectUrl));
    const sent = await this.#store.transaction(async (tx) => {
      const proof = await this.#proofs.issueMagicLink(tx, {
        kind: 'discovery_magic_link',
        purpose: 'discovery',
        organizationId: null,
        memberId: null,
        emailAddress,
        minutes,
        redirectUrl,
        pkceCodeChallenge,
      });
      await this.#audit.record(tx.audit, context, {
        type: 'magic_link.sent',
        organizationId: null,
        details: { purpose: 'discovery', email_address: emailAddress, expires_at: proof.expiresAt, pkce: pkceCodeChallenge !== null },
      });
      return proof;
    });
    this.#mail.deliver(context, { template: 'discovery', to: emailAddress, locale, link: sent.link, expiresAt: sent.expiresAt, organizationId: null, memberId: null });
  }

  /** otps.email.discovery.send: a discovery code to the address (voiding earlier ones), whoever it belongs to. */
  async sendCode(context: OperationContext, input: DiscoverySendInput): Promise<void> {
    const emailAddress = normalizeEmail(input.emailAddress);
    const minutes = checkExpirationMinutes('discovery_expiration_minutes', input.expirationMinutes, EMAIL_CREDENTIAL_MINUTES.oneTimeCode);
    const locale = checkLocale(input.locale);
    await this.#proofs.countSend(context, emailAddress);
    const sent = await this.#store.transaction(async (tx) => {
      const proof = await this.#proofs.issueCode(tx, { kind: 'discovery_email_otp', purpose: 'discovery', organizationId: null, memberId: null, emailAddress, minutes });
      await this.#audit.record(tx.audit, context, {
        type: 'email_otp.sent',
        organizationId: null,
        details: { purpose: 'discovery', email_address: emailAddress, expires_at: proof.expiresAt },
      });
      return proof;
    });
    this.#mail.deliver(context, { template: 'otp_discovery', to: emailAddress, locale, code: sent.code, expiresAt: sent.expiresAt, organizationId: null, memberId: null });
  }

  /** magicLinks.discovery.authenticate: spends a discovery link and starts an intermediate session for its address, in one transaction. */
  async authenticateMagicLink(context: OperationContext, token: string, pkceCodeVerifier: string | undefined): Promise<DiscoveryAuthenticated> {
    try {
      return await this.#store.transaction(async (tx) => {
        const credential = await this.#proofs.redeemMagicLink(tx, token, ['discovery_magic_link'], pkceCodeVerifier, METHOD.magicLink);
        return this.#start(tx, context, credential.emailAddress, 'magic_link');
      });
    } catch (error) {
      if (error instanceof SignInRefusal) return this.#proofs.refuse(context, error);
      throw error;
    }
  }

  /**
   * otps.email.discovery.authenticate: the code is checked (and a wrong one counted) in its own
   * transaction first; a right one is spent in the transaction that starts the intermediate session.
   */
  async authenticateCode(context: OperationContext, emailAddress: string, code: string): Promise<DiscoveryAuthenticated> {
    const address = normalizeEmail(emailAddress);
    try {
      const credential = await this.#proofs.checkCode(context, 'discovery_email_otp', null, address, code, METHOD.code);
      return await this.#store.transaction(async (tx) => {
        await this.#proofs.spendCode(tx, credential, METHOD.code);
        return this.#start(tx, context, credential.emailAddress, 'email_otp');
      });
    } catch (error) {
      if (error instanceof SignInRefusal) return this.#proofs.refuse(context, error);
      throw error;
    }
  }

  /**
   * discovery.organizations.list, by an intermediate session (left unspent; also lists the
   * organizations the address may join by its domain) or by a member session (only the address's
   * memberships; its own organization needs nothing more).
   */
  async listOrganizations(input: DiscoveryListInput): Promise<DiscoveryListing> {
    const intermediateSessionToken = emptyAsAbsent(input.intermediateSessionToken);
    const sessionToken = emptyAsAbsent(input.sessionToken);
    const sessionJwt = emptyAsAbsent(input.sessionJwt);
    const given = [intermediateSessionToken, sessionToken, sessionJwt].filter((value) => value !== undefined).length;
    if (given === 0) throw sessionError('no_session_arguments', 'Provide one of intermediate_session_token, session_token or session_jwt.');
    if (given > 1) throw sessionError('too_many_session_arguments', 'Provide only one of intermediate_session_token, session_token and session_jwt.');
    if (intermediateSessionToken !== undefined) {
      const intermediate = await requireUsableIntermediateSession(this.#store.sessions, intermediateSessionToken, toTimestamp(this.#clock.now()));
      return {
        emailAddress: intermediate.emailAddress,
        discoveredOrganizations: await discoverOrganizations(this.#store, intermediate.emailAddress, discoveryFactors(intermediate), { includeEligible: true }),
        organizationIdHint: intermediate.organizationId,
      };
    }
    const { session, member } = await this.#sessions.resolveLive({ sessionToken, sessionJwt });
    // A password proved in the session's organization proves nothing in the others.
    const carried = session.authenticationFactors.filter((factor) => !isPasswordFactor(factor));
    const found = await discoverOrganizations(this.#store, member.emailAddress, carried, { includeEligible: false });
    return {
      emailAddress: member.emailAddress,
      // The session is already in its own organization: nothing more is required there.
      discoveredOrganizations: found.map((entry) =>
        entry.organization.organizationId === session.organizationId ? { ...entry, memberAuthenticated: true, primaryRequired: null, mfaRequired: null } : entry,
      ),
      organizationIdHint: null,
    };
  }

  /** Starts the discovery intermediate session in the transaction that spent the proof, and lists what the address can enter. */
  async #start(tx: StorePorts, context: OperationContext, emailAddress: string, method: 'magic_link' | 'email_otp'): Promise<DiscoveryAuthenticated> {
    const factor = (at: string) => emailFactor(method, emailIdOf(this.#ids.environment, emailAddress, null), emailAddress, at);
    return this.startIntermediateSession(tx, context, emailAddress, factor, method === 'magic_link' ? METHOD.magicLink : METHOD.code);
  }

  /**
   * An intermediate session bound to the address alone, proved by the factor `proved` makes (an
   * email proof, or the address's password when passwords are shared across organizations), written
   * in `tx` with its audit event; with the organizations the address can enter.
   */
  async startIntermediateSession(
    tx: StorePorts,
    context: OperationContext,
    emailAddress: string,
    proved: (at: string) => AuthenticationFactor,
    method: string,
  ): Promise<DiscoveryAuthenticated> {
    const now = this.#clock.now();
    const at = toTimestamp(now);
    const factor = proved(at);
    const token = createOpaqueToken(this.#random);
    const intermediate: IntermediateSession = {
      intermediateSessionId: this.#ids.next('intermediate-session'),
      organizationId: null,
      memberId: null,
      emailAddress,
      authenticationFactors: [factor],
      createdAt: at,
      expiresAt: toTimestamp(new Date(now.getTime() + INTERMEDIATE_SESSION_MINUTES * 60_000)),
      consumedAt: null,
    };
    await tx.sessions.insertIntermediateSession(intermediate, { lookupId: token.lookupId, digest: token.digest });
    await this.#audit.record(tx.audit, context, {
      type: 'intermediate_session.started',
      organizationId: null,
      memberId: null,
      occurredAt: at,
      details: {
        intermediate_session_id: intermediate.intermediateSessionId,
        method,
        factor: factor.type,
        email_address: emailAddress,
        expires_at: intermediate.expiresAt,
      },
    });
    const discoveredOrganizations = await discoverOrganizations(tx, emailAddress, intermediate.authenticationFactors, { includeEligible: true });
    return { intermediateSessionToken: token.token, emailAddress, discoveredOrganizations };
  }
}

