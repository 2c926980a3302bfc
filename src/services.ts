import { KeystoreJwtCodec } from './crypto/keystore-jwt-codec.js';
import { SigningKeystore } from './crypto/keys/signing-keystore.js';
import { argon2idHasher, type PasswordHasher } from './crypto/password-hasher.js';
import { AuditRecorder } from './domain/audit/audit-recorder.js';
import { DomainEvents } from './domain/common/domain-events.js';
import { EmailProofs } from './domain/email-sign-in/email-proofs.js';
import { emailSignInEventHandlers } from './domain/email-sign-in/email-sign-in-event-handlers.js';
import { ConsoleAuthService } from './domain/operators/console-auth-service.js';
import { OperatorsService } from './domain/operators/operators-service.js';
import { AuditExports } from './domain/impersonation/audit-export.js';
import { ImpersonationAdminService } from './domain/impersonation/impersonation-admin-service.js';
import { ImpersonationEndings } from './domain/impersonation/impersonation-endings.js';
import { impersonationEventHandlers } from './domain/impersonation/impersonation-event-handlers.js';
import { ImpersonationLedger } from './domain/impersonation/impersonation-ledger.js';
import type { ProjectImpersonationPolicy } from './domain/impersonation/impersonation-policy.js';
import { ImpersonationService } from './domain/impersonation/impersonation-service.js';
import { MembersService } from './domain/members/members-service.js';
import { OrganizationsService } from './domain/organizations/organizations-service.js';
import { policiesOf, type RateLimitSettings } from './domain/rate-limits/rate-limit.js';
import { RateLimiter } from './domain/rate-limits/rate-limiter.js';
import type { StorePorts } from './domain/ports.js';
import { sessionEventHandlers } from './domain/sessions/session-event-handlers.js';
import { SessionsService } from './domain/sessions/sessions-service.js';
import { SignInPipeline } from './domain/sessions/sign-in/pipeline.js';
import type { Clock } from './platform/clock.js';
import { IdGenerator, environmentOfProject } from './platform/ids.js';
import type { Random } from './platform/random.js';
import type { Store } from './storage/store.js';

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
  /** Streamed whole-trail exports, bounded per process (API NDJSON and console download share the bound). */
  readonly auditExports: AuditExports;
  readonly impersonationLedger: ImpersonationLedger;
  readonly operators: OperatorsService;
  readonly consoleAuth: ConsoleAuthService;
  readonly rateLimits: RateLimiter;
  // Signing in by email: one line per service (mail delivery, redirect URLs, magic links, one-time codes, discovery).
  /** Magic links and one-time codes: issued, redeemed and refused the same way by every email sign-in method. */
  readonly emailProofs: EmailProofs;
  // ANCHOR: email sign-in services (interface)
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
}): Services {
  const { store, clock, random, projectId } = options;
  const ids = new IdGenerator(random, environmentOfProject(projectId));
  const audit = new AuditRecorder({ ids, clock });
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
  const sessions = new SessionsService({ store, jwt, clock, audit, projectId, events });
  const signIn = new SignInPipeline<StorePorts>({ store, sessions, clock, random, ids, audit });
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
  events.subscribe('operator.disabled', endImpersonations.operatorDisabled);
  events.subscribe('operator.password_reset', endImpersonations.operatorPasswordReset);
  // Sessions publish it after revoking the session row, so the ledger's row is locked after it.
  events.subscribe('member_sessions.revoked', (tx, context, event) => ledger.sessionsRevoked(tx, context, event.memberSessionIds, event.at, event.why));
  const operators = new OperatorsService({ store, hasher, clock, random, ids, audit, masterKey: options.masterKey, events });
  const impersonationAdmin = new ImpersonationAdminService({ store, clock, audit, project, endings });
  return {
    ids,
    keystore,
    organizations: new OrganizationsService({ store, ids, clock, audit, events }),
    members: new MembersService({ store, ids, clock, audit, events }),
    sessions,
    signIn,
    impersonation: new ImpersonationService({ store, signIn, clock, random, ids, audit, project }),
    impersonationAdmin,
    auditExports: new AuditExports({ trail: impersonationAdmin, maxConcurrent: options.auditExportConcurrency, stallSeconds: options.auditExportStallSeconds }),
    impersonationLedger: ledger,
    operators,
    consoleAuth: new ConsoleAuthService({ store, operators, hasher, clock, random, ids, audit, signInLimit: rateLimits.clientLimit('console_sign_ins') }),
    rateLimits,
    emailProofs: new EmailProofs({ store, clock, random, ids, audit, rateLimits }),
    // ANCHOR: email sign-in services (construction)
  };
}
