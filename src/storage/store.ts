import { sql, type Kysely } from 'kysely';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import type { AuditStore } from '../domain/audit/audit-store.js';
import type { StorePorts } from '../domain/ports.js';
import type { Database } from './database.js';
import { poolConnections, type PoolConnections } from './postgres/postgres-database.js';
import { AuditSqlStore } from './sql/audit-sql-store.js';
import { AuditChainSqlStore } from './sql/audit-chain-sql-store.js';
import { EmailCredentialsSqlStore } from './sql/email-credentials-sql-store.js';
import { ImpersonationSqlStore } from './sql/impersonation-sql-store.js';
import { MailOutboxSqlStore } from './sql/mail-outbox-sql-store.js';
import { MembersSqlStore } from './sql/members-sql-store.js';
import { OperatorsSqlStore } from './sql/operators-sql-store.js';
import { PasswordsSqlStore } from './sql/passwords-sql-store.js';
import { OrganizationsSqlStore } from './sql/organizations-sql-store.js';
import { ProjectsSqlStore } from './sql/projects-sql-store.js';
import { RateLimitsSqlStore } from './sql/rate-limits-sql-store.js';
import { RedirectUrlsSqlStore } from './sql/redirect-urls-sql-store.js';
import { SessionsSqlStore } from './sql/sessions-sql-store.js';
import { SigningKeysSqlStore } from './sql/signing-keys-sql-store.js';
import { SmsOutboxSqlStore } from './sql/sms-outbox-sql-store.js';
import { TotpsSqlStore } from './sql/totps-sql-store.js';
import { SmsCodesSqlStore } from './sql/sms-codes-sql-store.js';
import { RbacSqlStore } from './sql/rbac-sql-store.js';
import { AccessGrantsSqlStore } from './sql/access-grants-sql-store.js';
import { ImpersonationEndLinksSqlStore } from './sql/impersonation-end-links-sql-store.js';
import { SsoSqlStore } from './sql/sso-sql-store.js';
import { WebhooksSqlStore } from './sql/webhooks-sql-store.js';

export type Dialect = 'sqlite' | 'postgres';

/** The whole storage layer (style rule 13): the ports, plus transactions that bind them all. */
export interface Store extends StorePorts {
  readonly dialect: Dialect;
  transaction<T>(work: (tx: StorePorts) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Tells `listener` of each audit event once it is committed: after its transaction commits, once
   * however often a deadlock made the transaction run, never for one rolled back (metrics count
   * sign-ins and impersonations this way). What the listener throws goes to `onError` (a warning on
   * the process when omitted), never to the caller whose work committed. Returns what stops it.
   */
  onAuditEventCommitted(listener: (event: AuditEvent) => void, onError?: (error: unknown, event: AuditEvent) => void): () => void;
  /** The PostgreSQL pool's connections now (for metrics); undefined on SQLite, which has no pool. */
  connections(): PoolConnections | undefined;
}

/** The store over `db`: its ports bound to the pool, and transactions that bind them to one connection. */
export function createSqlStore(db: Kysely<Database>, dialect: Dialect): Store {
  const listeners = new Set<(event: AuditEvent) => void>();
  const committed = (events: readonly AuditEvent[]): void => {
    // Each listener guards itself (onAuditEventCommitted): the work has committed, and a listener's
    // failure must neither fail its caller (a retrying client would repeat it) nor skip the others.
    for (const event of events) for (const listener of listeners) listener(event);
  };
  const ports = bindPorts(db, dialect);
  return {
    ...ports,
    // Outside a transaction, an append commits by itself.
    audit: appending(ports.audit, (event) => {
      if (listeners.size > 0) committed([event]);
    }),
    dialect,
    transaction: (work) => inTransaction(db, dialect, work, listeners.size > 0 ? committed : undefined),
    ping: () => ping(db),
    close: () => db.destroy(),
    onAuditEventCommitted(listener, onError = warnOfListenerError) {
      // Wrapped, so the same function subscribed twice is told twice and each stop removes its own.
      const own = (event: AuditEvent): void => {
        try {
          listener(event);
        } catch (error) {
          try {
            onError(error, event);
          } catch {
            // Nowhere left to report it; the committed work still must not fail.
          }
        }
      };
      listeners.add(own);
      return () => listeners.delete(own);
    },
    connections: () => poolConnections(db),
  };
}

/** Where a listener's failure goes when its subscriber named no other place: the store has no logger. */
function warnOfListenerError(error: unknown, event: AuditEvent): void {
  process.emitWarning(`A listener of committed audit events failed on ${event.type}: ${error instanceof Error ? error.message : String(error)}`, 'UnderstudyWarning');
}

/** `audit` telling `appended` of each event it appended. */
function appending(audit: AuditStore, appended: (event: AuditEvent) => void): AuditStore {
  return {
    async appendEvent(event, options) {
      await audit.appendEvent(event, options);
      appended(event);
    },
    listEvents: (filter) => audit.listEvents(filter),
    searchEvents: (filter, page) => audit.searchEvents(filter, page),
  };
}

/** Every port bound to `db`, the pool or one transaction: the SQL side of the list in src/domain/ports.ts. */
function bindPorts(db: Kysely<Database>, dialect: Dialect): StorePorts {
  return {
    projects: new ProjectsSqlStore(db, dialect),
    organizations: new OrganizationsSqlStore(db, dialect),
    members: new MembersSqlStore(db, dialect),
    audit: new AuditSqlStore(db, dialect),
    auditChains: new AuditChainSqlStore(db, dialect),
    sessions: new SessionsSqlStore(db, dialect),
    signingKeys: new SigningKeysSqlStore(db, dialect),
    impersonation: new ImpersonationSqlStore(db),
    operators: new OperatorsSqlStore(db, dialect),
    rateLimits: new RateLimitsSqlStore(db),
    emailCredentials: new EmailCredentialsSqlStore(db, dialect),
    redirectUrls: new RedirectUrlsSqlStore(db, dialect),
    mailOutbox: new MailOutboxSqlStore(db),
    smsOutbox: new SmsOutboxSqlStore(db),
    passwords: new PasswordsSqlStore(db, dialect),
    totps: new TotpsSqlStore(db, dialect),
    smsCodes: new SmsCodesSqlStore(db, dialect),
    rbac: new RbacSqlStore(db, dialect),
    accessGrants: new AccessGrantsSqlStore(db, dialect),
    impersonationEndLinks: new ImpersonationEndLinksSqlStore(db),
    webhooks: new WebhooksSqlStore(db, dialect),
    sso: new SsoSqlStore(db, dialect),
  };
}

/** Times a transaction PostgreSQL aborted to break a deadlock is run again. */
const DEADLOCK_RETRIES = 2;

/**
 * Runs `work` in a transaction. Transactions take their row locks in one order (read-for-update.ts),
 * but a few cannot know every row ahead (a cross-organization password change writes the address's
 * members in other organizations after locking its own): when two of them cross, PostgreSQL aborts
 * one (deadlock_detected, 40P01), which rolled back whole and is run again, now waiting its turn.
 * A transaction's work therefore keeps its effects inside the transaction.
 */
async function inTransaction<T>(
  db: Kysely<Database>,
  dialect: Dialect,
  work: (tx: StorePorts) => Promise<T>,
  committed?: (events: readonly AuditEvent[]) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    // Collected afresh for each attempt: an attempt that rolled back appended nothing.
    const appended: AuditEvent[] | undefined = committed === undefined ? undefined : [];
    let result: T;
    try {
      result = await runTransaction(db, dialect, work, appended);
    } catch (error) {
      if (attempt >= DEADLOCK_RETRIES || (error as { code?: unknown }).code !== '40P01') throw error;
      continue;
    }
    if (appended !== undefined && appended.length > 0) committed?.(appended);
    return result;
  }
}

async function runTransaction<T>(db: Kysely<Database>, dialect: Dialect, work: (tx: StorePorts) => Promise<T>, appended?: AuditEvent[]): Promise<T> {
  return db.transaction().execute(async (trx) => {
    // SQLite starts a transaction as a reader; if another process (the CLI beside a server) writes
    // before this one's first write, that write fails at once with "database is locked" instead of
    // waiting. A write that matches no row takes the write lock first, so busy_timeout applies.
    if (dialect === 'sqlite') await sql`update projects set project_id = project_id where 1 = 0`.execute(trx);
    const ports = bindPorts(trx, dialect);
    return work(appended === undefined ? ports : { ...ports, audit: appending(ports.audit, (event) => appended.push(event)) });
  });
}

async function ping(db: Kysely<Database>): Promise<void> {
  await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
}
