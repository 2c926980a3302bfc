import { KeystoreJwtCodec } from './crypto/keystore-jwt-codec.js';
import { SigningKeystore } from './crypto/keys/signing-keystore.js';
import { argon2idHasher, type PasswordHasher } from './crypto/passwords/password-hasher.js';
import { AuditRecorder } from './domain/audit/audit-recorder.js';
import { AuditChainVerifier } from './domain/audit/audit-chain-verifier.js';
import { ChainHeadPublisher } from './domain/audit/chain-head-publisher.js';
import { NO_ACTIVITY_OBSERVER, type ActivityObserver } from './domain/common/activity-observer.js';
import { DomainEvents } from './domain/common/domain-events.js';
import { EmailProofs } from './domain/email-sign-in/email-proofs.js';
import { DiscoveryExchange } from './domain/discovery/discovery-exchange.js';
import { SessionExchange } from './domain/sessions/session-exchange.js';
import type { MailDispatcher } from './domain/mail/mail-dispatcher.js';
import type { Outbox } from './domain/mail/outbox.js';
import { createMailServices, type MailSettings } from './mail/mail-services.js';
import type { SmsDispatcher } from './domain/sms/sms-dispatcher.js';
import type { SmsOutbox } from './domain/sms/sms-outbox.js';
import { createSmsServices, type SmsSettings } from './sms/sms-services.js';
import { emailSignInEventHandlers } from './domain/email-sign-in/email-sign-in-event-handlers.js';
import { DiscoveryService } from './domain/discovery/discovery-service.js';
import { EmailOtpsService } from './domain/email-sign-in/email-otps-service.js';
import { MagicLinksService } from './domain/email-sign-in/magic-links-service.js';
import { ConsoleAuthService } from './domain/operators/console-auth-service.js';
import { OperatorsService } from './domain/operators/operators-service.js';
import { OperatorTotpService } from './domain/operators/operator-totp-service.js';
import { ConsoleAuditTrail } from './domain/operators/console-audit-trail.js';
import { AuditExports } from './domain/impersonation/audit-export.js';
import { AccessGrantsService } from './domain/impersonation/access-grants-service.js';
import { ImpersonationAdminService } from './domain/impersonation/impersonation-admin-service.js';
import { ImpersonationEndings } from './domain/impersonation/impersonation-endings.js';
import { impersonationEventHandlers } from './domain/impersonation/impersonation-event-handlers.js';
import { ImpersonationLedger } from './domain/impersonation/impersonation-ledger.js';
import type { ProjectImpersonationPolicy } from './domain/impersonation/impersonation-policy.js';
import { ImpersonationService } from './domain/impersonation/impersonation-service.js';
import { MemberHistoryService } from './domain/impersonation/member-history.js';
import { MembersService } from './domain/members/members-service.js';
import { OrganizationsService } from './domain/organizations/organizations-service.js';
import { policiesOf, type RateLimitSettings } from './domain/rate-limits/rate-limit.js';
import { RateLimiter } from './domain/rate-limits/rate-limiter.js';
import type { RedirectUrl } from './domain/redirect-urls/redirect-url.js';
import type { RedirectUrlResolver } from './domain/redirect-urls/redirect-urls.js';
import { RedirectUrlsService } from './domain/redirect-urls/redirect-urls-service.js';
import type { StorePorts } from './domain/ports.js';
import { sessionEventHandlers } from './domain/sessions/session-event-handlers.js';
import { SessionsService } from './domain/sessions/sessions-service.js';
import { SignInPipeline } from './domain/sessions/sign-in/pipeline.js';
import type { Clock } from './platform/clock.js';
import { IdGenerator, environmentOfProject } from './platform/ids.js';
import type { Random } from './platform/random.js';
import type { Store } from './storage/store.js';
import { PasswordHashingPool } from './passwords/password-hashing-pool.js';
import { createBreachedPasswords } from './crypto/passwords/breach/create-breached-passwords.js';
import { MemberPasswords } from './domain/passwords/member-passwords.js';
import { PasswordResetsService } from './domain/passwords/password-resets-service.js';
import { DiscoveryPasswordsService } from './domain/passwords/discovery-passwords-service.js';
import { passwordEventHandlers } from './domain/passwords/password-event-handlers.js';
import { mfaEventHandlers } from './domain/mfa/mfa-event-handlers.js';
import { MfaGuessLimit } from './domain/mfa/mfa-guess-limit.js';
import { EnrolmentGuard } from './domain/mfa/mfa-rules.js';
import { MfaSealer } from './domain/mfa/mfa-sealer.js';
import { RecoveryCodesService } from './domain/mfa/recovery-codes-service.js';
import { SecondFactorProof } from './domain/mfa/second-factor-proof.js';
import { TotpsService } from './domain/mfa/totps-service.js';
import { SmsCodeSender } from './domain/mfa/sms-code-sender.js';
import { SmsMfaPrompt } from './domain/mfa/sms-mfa-prompt.js';
import { SmsOtpsService } from './domain/mfa/sms-otps-service.js';
import type { MfaPrompt } from './domain/sessions/sign-in/mfa-prompt.js';
import { PasswordMigration } from './domain/passwords/password-migration.js';
import { PasswordsService } from './domain/passwords/passwords-service.js';
import type { Argon2idParameters } from './domain/passwords/password-hashing.js';
import { DEFAULT_ARGON2ID_PARAMETERS } from './domain/passwords/password-hashing.js';
import { DEFAULT_PASSWORD_SETTINGS, type PasswordSettings } from './domain/passwords/password-settings.js';
import type { PasswordStrengthService } from './domain/passwords/strength/password-strength-service.js';
import { createPasswordStrengthChecker } from './domain/passwords/strength/create-password-strength-checker.js';
import { ImpersonatedCalls } from './domain/impersonation/impersonated-calls.js';
import { RbacPolicyService } from './domain/rbac/policy-service.js';
import { OrganizationRolesService } from './domain/rbac/organization-roles-service.js';
import { ZxcvbnWorkerPool } from './passwords/zxcvbn/zxcvbn-worker-pool.js';
import { ImpersonationEndLinks } from './domain/impersonation/end-link-service.js';
import { ImpersonationNotifier } from './domain/impersonation/impersonation-notifier.js';
import { WebhookDeliveries } from './domain/webhooks/webhook-deliveries.js';
import { WebhookSecrets } from './domain/webhooks/webhook-secrets.js';
import { WebhooksService } from './domain/webhooks/webhooks-service.js';
import { HttpWebhookTransport } from './webhooks/http-webhook-transport.js';
import type { Logger } from './platform/logger.js';
import { PublicOrigin } from './platform/public-origin.js';
import { SsoFlows } from './domain/sso/sso-flows.js';
import { SsoConsoleView } from './domain/sso/sso-console.js';
import { SsoSignInService } from './domain/sso/sso-sign-in-service.js';
import { ssoEventHandlers } from './domain/sso/sso-event-handlers.js';
import { SsoConnectionsService } from './domain/sso/connections-service.js';
import { idpFetch, type IdpFetch } from './sso/idp-http.js';
import { SamlProtocol } from './sso/saml/saml-protocol.js';
import { OidcProtocol } from './sso/oidc/oidc-protocol.js';

export interface Services {
  readonly ids: IdGenerator;
  readonly keystore: SigningKeystore<StorePorts>;
  readonly organizations: OrganizationsService;
  readonly members: MembersService;
  readonly sessions: SessionsService;
  /** The one way a member session starts: every sign-in method's service runs its verifier through it. */
  readonly signIn: SignInPipeline<StorePorts>;
  readonly impersonation: ImpersonationService;
  readonly impersonationAdmin: ImpersonationAdminService;
  /** Access grants: the windows in which an organization in `by_grant` mode lets support impersonate. */
  readonly accessGrants: AccessGrantsService;
  /** Streamed whole-trail exports, bounded per process (API NDJSON and console download share the bound). */
  readonly auditExports: AuditExports;
  readonly impersonationLedger: ImpersonationLedger;
  /** Members' own impersonation history, and the record of admins' exports of their organization's trail. */
  readonly memberHistory: MemberHistoryService;
  readonly operators: OperatorsService;
  readonly consoleAuth: ConsoleAuthService;
  /** Operators' own TOTP: replaced after re-authenticating, or set up at sign-in after an admin reset it. */
  readonly operatorTotp: OperatorTotpService;
  /** The member and operator audit trails as the console shows them. */
  readonly consoleAudit: ConsoleAuditTrail;
  readonly rateLimits: RateLimiter;
  /** Magic links and one-time codes: issued, redeemed and refused the same way by every email sign-in method. */
  readonly emailProofs: EmailProofs;
  /** Which redirect URL a sent link may carry (exact match, or the type's default). */
  readonly redirectUrls: RedirectUrlResolver;
  /** The allowed redirect URLs as the console and the CLI list and edit them. */
  readonly redirectUrlsAdmin: RedirectUrlsService;
  /** Sign-in email: `deliver` after the sending transaction commits; SMTP with retries, or the outbox. */
  readonly mail: MailDispatcher;
  /** What was sent (outbox mode: with its link or code) and how delivery went, newest first. */
  readonly outbox: Outbox;
  /** SMS codes: `deliver` after the sending transaction commits; the outbox, a signed webhook or a Twilio-shaped API, with retries. */
  readonly sms: SmsDispatcher;
  /** What was sent by SMS (outbox mode: with its code and text) and how delivery went, newest first. */
  readonly smsOutbox: SmsOutbox;
  /** Magic links of an organization: login_or_signup, invite, authenticate. */
  readonly magicLinks: MagicLinksService;
  /** One-time codes by email for an organization: login_or_signup, authenticate. */
  readonly emailOtps: EmailOtpsService;
  /** The end of discovery: an intermediate session exchanged into an organization, or one created with it. */
  readonly discoveryExchange: DiscoveryExchange;
  /** sessions.exchange: a member's session moved into another organization of the same address. */
  readonly sessionExchange: SessionExchange;
  /** Discovery: an address proved before choosing an organization; the organizations it can enter. */
  readonly discovery: DiscoveryService;
  /** argon2id hashing and migrated-hash verification, bounded (concurrency, queue → 429). */
  readonly passwordHashing: PasswordHashingPool;
  /** The project's password policy (zxcvbn or LUDS) and breach source. */
  readonly passwordStrength: PasswordStrengthService;
  /** Members' passwords: checked with the user lock, judged, written; shared by every password operation. */
  readonly memberPasswords: MemberPasswords;
  /** Organization-scoped password operations: authenticate, migrate, resets, deletePassword, requireReset. */
  readonly passwords: PasswordsService;
  /** One member's password migration inside a caller's transaction (passwords.migrate, bulk imports). */
  readonly passwordMigration: PasswordMigration;
  /** passwords.email.resetStart and .reset: an organization's member sets a password by a link mailed to them. */
  readonly passwordResets: PasswordResetsService;
  /** passwords.discovery.*: one password per address, proved (or reset by email) before an organization is chosen. */
  readonly discoveryPasswords: DiscoveryPasswordsService;
  /** Members' authenticator apps: totps.create, .authenticate (a second factor), .migrate, organizations.members.deleteTOTP. */
  readonly totps: TotpsService;
  /** Recovery codes of a member's active TOTP registration: recover (a second factor), get, rotate. */
  readonly recoveryCodes: RecoveryCodesService;
  /** SMS one-time codes as a second factor: otps.sms.send, otps.sms.authenticate (and the SMS a sign-in starts). */
  readonly smsOtps: SmsOtpsService;
  /** The project's RBAC policy: served by rbac.policy, edited by the policy file, console and CLI, read by every authorization. */
  readonly rbacPolicy: RbacPolicyService;
  /** Organizations' own custom roles (rbac.organizations.setOrgPolicy), checked against the project's policy. */
  readonly organizationRoles: OrganizationRolesService;
  /** The impersonation trail's record of each admin call an impersonated session's headers made. */
  readonly impersonatedCalls: ImpersonatedCalls;
  /** The impersonated member's single-use link, from the notification email, that ends the impersonation. */
  readonly impersonationEndLinks: ImpersonationEndLinks;
  /** Notification emails when an impersonation starts (the organization's notify_member / notify_admins). */
  readonly impersonationNotifier: ImpersonationNotifier;
  /** Webhook endpoints (the project's and organizations') and their delivery log. */
  readonly webhooks: WebhooksService;
  /** The webhook outbox's fan-out and the deliveries' attempts; the serving process starts and stops it (src/main.ts). */
  readonly webhookDeliveries: WebhookDeliveries;
  /** The tamper-evident audit chains: their heads, and checking every record of them. */
  readonly auditChain: AuditChainVerifier;
  /** Publishes the chains' heads (the serving process's timer, src/main.ts). */
  readonly chainHeadPublisher: ChainHeadPublisher;
  // SSO (docs/sso.md).
  /** Where browsers reach this server (UNDERSTUDY_PUBLIC_URL, or the listening address once known). */
  readonly publicOrigin: PublicOrigin;
  /** The only way the server fetches an identity provider's URLs (address rules, time and size limits). */
  readonly ssoFetch: IdpFetch;
  /** SAML: AuthnRequests, verifying responses, our SP metadata. */
  readonly samlProtocol: SamlProtocol;
  /** OIDC: authorization requests, the code exchange and ID token checks. */
  readonly oidcProtocol: OidcProtocol;
  /** The browser's part of an SSO sign-in: /v1/public/sso/start, the IdP's answer, the SSO token. */
  readonly ssoFlows: SsoFlows;
  /** sso.authenticate: the SSO token spent, its member found or provisioned just in time, signed in through the pipeline. */
  readonly ssoSignIn: SsoSignInService;
  /** The console's SSO pages: an organization's connections and certificates, a test's outcome. */
  readonly ssoConsole: SsoConsoleView;
  /** sso.getConnections, sso.deleteConnection, sso.saml.*, sso.oidc.*, sso.external.*: an organization's connections. */
  readonly ssoConnections: SsoConnectionsService;
}

/** Webhooks (UNDERSTUDY_WEBHOOK_*, docs/webhooks.md). */
export interface WebhookSettings {
  /** Endpoints may name loopback, private and link-local addresses (and http://localhost). */
  readonly allowPrivateAddresses: boolean;
  /** Attempts per delivery before it fails. */
  readonly maxAttempts: number;
  /** Waits after each failed attempt; 5 s, 30 s, 2 min, 10 min, 1 h, 6 h when omitted (tests shorten them). */
  readonly retryDelaysMs?: readonly number[] | undefined;
  /** How often the outbox and due deliveries are looked at; 1 s when omitted. */
  readonly pollMs?: number | undefined;
  /** Where failed rounds are logged (never a body or secret); the mail logger when omitted. */
  readonly logger?: Logger | undefined;
}

const DEFAULT_WEBHOOK_MAX_ATTEMPTS = 8;

/** Passwords: the project's policy, argon2id's cost, the hashing pool's bounds and the breach source (src/config). */
export interface PasswordOptions {
  readonly settings: PasswordSettings;
  readonly argon2: Argon2idParameters;
  /** Undefined: one per CPU core. */
  readonly hashConcurrency?: number | undefined;
  readonly hashQueueLength: number;
  readonly breachRangesDir?: string | undefined;
  readonly breachRangeApiUrl?: string | undefined;
  /** Told when the breach source cannot answer (for the log). */
  readonly onBreachSourceFailure?: ((error: unknown) => void) | undefined;
  /** Told when a zxcvbn worker fails or exits (for the log). */
  readonly onStrengthCheckFailure?: ((error: unknown) => void) | undefined;
}

/**
 * Builds every domain service over one store (style rule 4), each with the narrowest
 * dependencies it needs. The HTTP server, the CLI and the tests all get their services here.
 */
export function createServices(options: {
  store: Store;
  clock: Clock;
  random: Random;
  projectId: string;
  masterKey: Buffer;
  /** The project-wide impersonation switch and redirect URL; allowed with no URL when omitted. */
  impersonation?: ProjectImpersonationPolicy;
  /** argon2id unless a test swaps in something faster. */
  passwordHasher?: PasswordHasher;
  /** The rate limits in force (src/config); none when omitted, as for the CLI and service tests. */
  rateLimits?: RateLimitSettings;
  /** Audit exports one process runs at once; DEFAULT_AUDIT_EXPORT_CONCURRENCY when omitted. */
  auditExportConcurrency?: number;
  /** Seconds a client may read nothing before its export is cut off; DEFAULT_AUDIT_EXPORT_STALL_SECONDS when omitted. */
  auditExportStallSeconds?: number;
  /** Redirect URLs from configuration (read-only); none when omitted. */
  redirectUrls?: readonly RedirectUrl[];
  /** Sign-in email: project name, SMTP (the outbox when omitted), retry waits, logger. */
  mail?: MailSettings;
  /** SMS codes: provider (the outbox when omitted), retry waits, timeout, logger. */
  sms?: SmsSettings;
  /** Stytch's default policy and OWASP's argon2id minimum when omitted. */
  passwords?: PasswordOptions;
  /** Where this server is reached from browsers (UNDERSTUDY_PUBLIC_URL): the notification email's end link needs it. */
  publicUrl?: string | undefined;
  /** Webhooks: internal addresses allowed, attempts, waits, poll interval, logger; production defaults when omitted. */
  webhooks?: WebhookSettings;
  /** Told of committed audit events (the server's metrics); nobody when omitted. */
  activity?: ActivityObserver;
  /** SSO connections may name internal addresses for the IdP URLs the server fetches (UNDERSTUDY_SSO_ALLOW_PRIVATE_ADDRESSES); off when omitted. */
  ssoAllowPrivateAddresses?: boolean;
}): Services {
  const { store, clock, random, projectId } = options;
  const activity = options.activity ?? NO_ACTIVITY_OBSERVER;
  // Sign-ins, refusals and impersonations are counted from the audit trail, once committed.
  if (options.activity !== undefined) store.onAuditEventCommitted((event) => activity.auditEventCommitted(event));
  const ids = new IdGenerator(random, environmentOfProject(projectId));
  // A published event asks the webhook worker for a round once its request is answered (src/main.ts).
  const audit = new AuditRecorder({ ids, clock, onPublished: () => webhookDeliveries.notePublished() });
  // How capabilities tell each other of their changes, inside the transaction that made them.
  const events = new DomainEvents<StorePorts>();
  const keystore = new SigningKeystore<StorePorts>({
    store,
    masterKey: options.masterKey,
    clock,
    random,
    ids,
    onKeyEvent: (tx, event) =>
      audit.record(tx.audit, { requestId: 'signing-keys', actor: { type: 'system' } }, {
        type: event.type,
        organizationId: null,
        details: { kid: event.kid, active_from: event.activeFrom, retiring: event.retiring },
      }),
  });
  const jwt = new KeystoreJwtCodec({ keystore, clock, projectId });
  const ledger = new ImpersonationLedger({ audit, clock });
  const project = options.impersonation ?? { enabled: true, redirectUrl: null };
  const hasher = options.passwordHasher ?? argon2idHasher;
  const rateLimits = new RateLimiter({ store: store.rateLimits, clock, policies: policiesOf(options.rateLimits) });
  // The project's RBAC policy (Stytch's defaults plus what the policy file, console or CLI applied).
  const rbacPolicy = new RbacPolicyService({ store, clock, audit });
  const sessions = new SessionsService({ store, jwt, clock, audit, projectId, events, rbacPolicy });
  // A sign-in that ends needing MFA may send an SMS code at once; its sender and delivery are built below.
  const mfaPrompt: MfaPrompt<StorePorts> = { start: (tx, context, member, organization, locale) => smsMfaPrompt.start(tx, context, member, organization, locale) };
  const signIn = new SignInPipeline<StorePorts>({ store, sessions, clock, random, ids, audit, mfaPrompt });
  // Ends impersonations inside the transaction of whatever causes it (operators, members, organizations, policies).
  const endings = new ImpersonationEndings({ sessions, ledger, audit, clock });
  // Per event, impersonations end before member sessions: the lock order (read-for-update.ts).
  const endImpersonations = impersonationEventHandlers(endings);
  const endSessions = sessionEventHandlers(sessions);
  events.subscribe('member.deleted', endImpersonations.memberDeleted);
  events.subscribe('member.deleted', endSessions.memberDeleted);
  events.subscribe('member.email_changed', endImpersonations.memberEmailChanged);
  events.subscribe('member.email_changed', endSessions.memberEmailChanged);
  events.subscribe('organization.deleted', endImpersonations.organizationDeleted);
  events.subscribe('organization.deleted', endSessions.organizationDeleted);
  // Magic links and codes go last: they lock nothing the handlers above lock.
  const endEmailCredentials = emailSignInEventHandlers();
  events.subscribe('member.deleted', endEmailCredentials.memberDeleted);
  events.subscribe('member.email_changed', endEmailCredentials.memberEmailChanged);
  events.subscribe('organization.deleted', endEmailCredentials.organizationDeleted);
  // Passwords die with their member, its address or its organization (the member row is locked already).
  // memberPasswords is built below; the handlers run only once services exist.
  const endPasswords = passwordEventHandlers(clock, { deletePassword: (tx, context, member, how) => memberPasswords.deletePassword(tx, context, member, how) });
  events.subscribe('member.deleted', endPasswords.memberDeleted);
  events.subscribe('member.email_changed', endPasswords.memberEmailChanged);
  events.subscribe('organization.deleted', endPasswords.organizationDeleted);
  // Second factors (TOTP registrations, recovery codes, SMS codes) die with their member or organization.
  const endMfa = mfaEventHandlers();
  events.subscribe('member.deleted', endMfa.memberDeleted);
  // A deleted member's IdP subjects are unlinked (its row is locked already).
  events.subscribe('member.deleted', ssoEventHandlers(clock).memberDeleted);
  events.subscribe('organization.deleted', endMfa.organizationDeleted);
  events.subscribe('operator.disabled', endImpersonations.operatorDisabled);
  events.subscribe('operator.password_reset', endImpersonations.operatorPasswordReset);
  events.subscribe('operator.totp_reset', endImpersonations.operatorTotpReset);
  // Sessions publish it after revoking the session row, so the ledger's row is locked after it.
  events.subscribe('member_sessions.revoked', (tx, context, event) => ledger.sessionsRevoked(tx, context, event.memberSessionIds, event.at, event.why));
  const operators = new OperatorsService({ store, hasher, clock, random, ids, audit, masterKey: options.masterKey, events });
  const consoleAuth = new ConsoleAuthService({ store, operators, hasher, clock, random, ids, audit, signInLimit: rateLimits.clientLimit('console_sign_ins') });
  const redirectUrls = new RedirectUrlsService({ store, clock, audit, configured: options.redirectUrls });
  const impersonationAdmin = new ImpersonationAdminService({ store, clock, audit, project, endings, rbacPolicy });
  // Shared by every email sign-in method (one rate limiter, one mail queue).
  const emailProofs = new EmailProofs({ store, clock, random, ids, audit, rateLimits });
  const mailServices = createMailServices({ store, clock, ids, settings: options.mail });
  // Notifications and webhooks (docs/impersonation.md, docs/webhooks.md).
  const webhookSettings = options.webhooks ?? { allowPrivateAddresses: false, maxAttempts: DEFAULT_WEBHOOK_MAX_ATTEMPTS };
  const webhookLogger = webhookSettings.logger ?? options.mail?.logger;
  const impersonationEndLinks = new ImpersonationEndLinks({ store, endings, audit, clock, random, ids });
  const impersonationNotifier = new ImpersonationNotifier({
    store,
    mail: mailServices.mail,
    endLinks: impersonationEndLinks,
    audit,
    publicUrl: options.publicUrl,
    onProblem: (error) => webhookLogger?.warn({ err: error }, 'an impersonation notification could not be sent'),
  });
  const webhookSecrets = new WebhookSecrets({ masterKey: options.masterKey, random });
  const webhookTransport = new HttpWebhookTransport({ allowPrivateAddresses: webhookSettings.allowPrivateAddresses });
  const webhookDeliveries = new WebhookDeliveries({
    store,
    transport: webhookTransport,
    secrets: webhookSecrets,
    clock,
    random,
    ids,
    maxAttempts: webhookSettings.maxAttempts,
    retryDelaysMs: webhookSettings.retryDelaysMs,
    pollMs: webhookSettings.pollMs,
    onProblem: (error) => webhookLogger?.warn({ err: error }, 'a webhook delivery round failed'),
    // Ids and outcome only: never the body or the secret.
    onOutcome: (outcome) =>
      webhookLogger?.debug(
        { delivery_id: outcome.delivery.deliveryId, endpoint_id: outcome.delivery.endpointId, event_type: outcome.delivery.eventType, status: outcome.status, attempts: outcome.attempts, status_code: outcome.statusCode },
        'webhook attempt',
      ),
  });
  const smsServices = createSmsServices({ store, clock, ids, settings: options.sms });
  // Every second factor judges enrolment tokens and session arguments the same way (src/domain/mfa).
  const enrolmentGuard = new EnrolmentGuard({ sessionsStore: store.sessions, sessions, clock });
  const secondFactorProof = new SecondFactorProof({ store, guard: enrolmentGuard, audit });
  // SMS codes, sent by otps.sms.send and by sign-ins alike: one sender, under the costly-abuse limits.
  const smsCodeSender = new SmsCodeSender({ rateLimits, clock, random, ids, audit, projectId, allowedCountryCodes: options.sms?.allowedCountryCodes });
  // Wrong codes of every kind (TOTP, recovery, SMS) count against one bound per member.
  const mfaGuesses = new MfaGuessLimit({ clock });
  const smsMfaPrompt = new SmsMfaPrompt({ sender: smsCodeSender, delivery: smsServices.sms });
  const smsOtps = new SmsOtpsService({
    store,
    signIn,
    sender: smsCodeSender,
    delivery: smsServices.sms,
    guard: enrolmentGuard,
    proof: secondFactorProof,
    guesses: mfaGuesses,
    clock,
    ids,
    audit,
  });
  const passwordOptions = options.passwords ?? { settings: DEFAULT_PASSWORD_SETTINGS, argon2: DEFAULT_ARGON2ID_PARAMETERS, hashQueueLength: 64 };
  const passwordHashing = new PasswordHashingPool({ parameters: passwordOptions.argon2, concurrency: passwordOptions.hashConcurrency, queueLength: passwordOptions.hashQueueLength });
  const passwordStrength = createPasswordStrengthChecker({
    settings: passwordOptions.settings,
    breached: createBreachedPasswords({ rangesDir: passwordOptions.breachRangesDir, rangeApiUrl: passwordOptions.breachRangeApiUrl }),
    // zxcvbn off the event loop: one lazily started worker and a bounded queue (429 past it).
    zxcvbn: new ZxcvbnWorkerPool({ onFailure: passwordOptions.onStrengthCheckFailure }),
    onBreachSourceFailure: passwordOptions.onBreachSourceFailure,
  });
  const discovery = new DiscoveryService({ store, proofs: emailProofs, sessions, mail: mailServices.mail, redirectUrls, clock, random, ids, audit });
  const memberPasswords = new MemberPasswords({
    store,
    hashing: passwordHashing,
    strength: passwordStrength,
    settings: passwordOptions.settings,
    clock,
    ids,
    audit,
    rateLimits,
  });
  // TOTP and recovery codes share the sealing key, the wrong-code bound and the enrolment guard.
  const totpDependencies = {
    store,
    signIn,
    guard: enrolmentGuard,
    proof: secondFactorProof,
    guesses: mfaGuesses,
    sealer: new MfaSealer({ masterKey: options.masterKey, random }),
    clock,
    random,
    ids,
    audit,
  };
  const totpServices = { totps: new TotpsService(totpDependencies), recoveryCodes: new RecoveryCodesService(totpDependencies) };
  const passwordMigration = new PasswordMigration({ passwords: memberPasswords, ids, clock, audit, rbacPolicy });
  const publicOrigin = new PublicOrigin(options.publicUrl);
  const ssoFetch = idpFetch({ allowPrivateAddresses: options.ssoAllowPrivateAddresses ?? false });
  const samlProtocol = new SamlProtocol({ store, origin: publicOrigin, masterKey: options.masterKey, clock, random });
  const oidcProtocol = new OidcProtocol({ store, origin: publicOrigin, masterKey: options.masterKey, clock, fetch: ssoFetch });
  const ssoFlows = new SsoFlows({
    store,
    redirectUrls,
    protocols: { saml: samlProtocol, oidc: oidcProtocol },
    clock,
    random,
    ids,
    audit,
    projectId,
    requestLimit: rateLimits.clientLimit('sso_requests_per_client'),
  });
  const ssoConnections = new SsoConnectionsService({
    store,
    clock,
    random,
    ids,
    audit,
    masterKey: options.masterKey,
    fetch: ssoFetch,
    allowPrivateAddresses: options.ssoAllowPrivateAddresses ?? false,
  });
  // Last of the organization's handlers: it may lock other organizations (those borrowing its connections).
  events.subscribe('organization.deleted', ssoConnections.organizationDeleted);
  return {
    ssoConnections,
    publicOrigin,
    ssoFetch,
    samlProtocol,
    oidcProtocol,
    ssoFlows,
    ssoSignIn: new SsoSignInService({ store, signIn, clock, ids, audit }),
    ssoConsole: new SsoConsoleView({ store, clock }),
    rbacPolicy,
    organizationRoles: new OrganizationRolesService({ store, clock, audit, rbacPolicy }),
    impersonatedCalls: new ImpersonatedCalls({ store, audit }),
    auditChain: new AuditChainVerifier({ store }),
    chainHeadPublisher: new ChainHeadPublisher({ store, audit, ids }),
    ids,
    keystore,
    organizations: new OrganizationsService({ store, ids, clock, audit, events }),
    members: new MembersService({ store, ids, clock, audit, events, rbacPolicy }),
    sessions,
    signIn,
    impersonation: new ImpersonationService({ store, signIn, clock, random, ids, audit, project, rbacPolicy, started: impersonationNotifier }),
    impersonationEndLinks,
    impersonationNotifier,
    webhooks: new WebhooksService({ store, secrets: webhookSecrets, transport: webhookTransport, allowPrivateAddresses: webhookSettings.allowPrivateAddresses, clock, ids, audit }),
    webhookDeliveries,
    impersonationAdmin,
    accessGrants: new AccessGrantsService({ store, clock, ids, audit, endings, maxGrantHours: project.maxGrantHours }),
    auditExports: new AuditExports({ trail: impersonationAdmin, maxConcurrent: options.auditExportConcurrency, stallSeconds: options.auditExportStallSeconds }),
    impersonationLedger: ledger,
    memberHistory: new MemberHistoryService({ store, clock, audit }),
    operators,
    consoleAuth,
    operatorTotp: new OperatorTotpService({ store, consoleAuth, operators, clock, random, ids, audit, masterKey: options.masterKey }),
    consoleAudit: new ConsoleAuditTrail({ store }),
    rateLimits,
    emailProofs,
    redirectUrls,
    redirectUrlsAdmin: redirectUrls,
    ...mailServices,
    ...smsServices,
    magicLinks: new MagicLinksService({ store, signIn, proofs: emailProofs, mail: mailServices.mail, redirectUrls, clock, ids, audit, rbacPolicy }),
    emailOtps: new EmailOtpsService({ store, signIn, proofs: emailProofs, mail: mailServices.mail, clock, ids, audit }),
    discoveryExchange: new DiscoveryExchange({ signIn, ids, clock, audit }),
    sessionExchange: new SessionExchange({ signIn, sessions, ids, clock, audit }),
    discovery,
    passwordHashing,
    passwordStrength,
    memberPasswords,
    passwords: new PasswordsService({ store, signIn, passwords: memberPasswords, hashing: passwordHashing, migration: passwordMigration, sessions, clock, audit }),
    passwordMigration,
    passwordResets: new PasswordResetsService({ store, signIn, proofs: emailProofs, passwords: memberPasswords, sessions, mail: mailServices.mail, redirectUrls, clock, ids, audit }),
    discoveryPasswords: new DiscoveryPasswordsService({ store, proofs: emailProofs, passwords: memberPasswords, sessions, discovery, mail: mailServices.mail, redirectUrls, clock, audit }),
    ...totpServices,
    smsOtps,
  };
}
