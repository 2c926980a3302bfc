import { sql, type Kysely } from 'kysely';
import type { SigningKeysStore } from '../crypto/keys/signing-keys-store.js';
import type { AuditStore } from '../domain/audit/audit-store.js';
import type { ImpersonationStore } from '../domain/impersonation/impersonation-store.js';
import type { MembersStore } from '../domain/members/members-store.js';
import type { OperatorsStore } from '../domain/operators/operators-store.js';
import type { OrganizationsStore } from '../domain/organizations/organizations-store.js';
import type { ProjectsStore } from '../domain/projects/projects-store.js';
import type { RateLimitsStore } from '../domain/rate-limits/rate-limits-store.js';
import type { SessionsStore } from '../domain/sessions/sessions-store.js';
import type { Database } from './database.js';
import { AuditSqlStore } from './sql/audit-sql-store.js';
import { ImpersonationSqlStore } from './sql/impersonation-sql-store.js';
import { MembersSqlStore } from './sql/members-sql-store.js';
import { OperatorsSqlStore } from './sql/operators-sql-store.js';
import { OrganizationsSqlStore } from './sql/organizations-sql-store.js';
import { ProjectsSqlStore } from './sql/projects-sql-store.js';
import { RateLimitsSqlStore } from './sql/rate-limits-sql-store.js';
import { SessionsSqlStore } from './sql/sessions-sql-store.js';
import { SigningKeysSqlStore } from './sql/signing-keys-sql-store.js';

/** Every capability's port, bound to one connection or one transaction. */
export interface StorePorts {
  readonly projects: ProjectsStore;
  readonly organizations: OrganizationsStore;
  readonly members: MembersStore;
  readonly audit: AuditStore;
  readonly sessions: SessionsStore;
  readonly signingKeys: SigningKeysStore;
  readonly impersonation: ImpersonationStore;
  readonly operators: OperatorsStore;
  readonly rateLimits: RateLimitsStore;
}

/** The whole storage layer (style rule 13): the ports, plus transactions that bind them all. */
export interface Store extends StorePorts {
  readonly dialect: 'sqlite' | 'postgres';
  transaction<T>(work: (tx: StorePorts) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

function bindPorts(db: Kysely<Database>, dialect: 'sqlite' | 'postgres'): StorePorts {
  return {
    projects: new ProjectsSqlStore(db, dialect),
    organizations: new OrganizationsSqlStore(db, dialect),
    members: new MembersSqlStore(db, dialect),
    audit: new AuditSqlStore(db, dialect),
    sessions: new SessionsSqlStore(db, dialect),
    signingKeys: new SigningKeysSqlStore(db, dialect),
    impersonation: new ImpersonationSqlStore(db),
    operators: new OperatorsSqlStore(db, dialect),
    rateLimits: new RateLimitsSqlStore(db),
  };
}

export class SqlStore implements Store {
  readonly dialect: 'sqlite' | 'postgres';
  readonly projects: ProjectsStore;
  readonly organizations: OrganizationsStore;
  readonly members: MembersStore;
  readonly audit: AuditStore;
  readonly sessions: SessionsStore;
  readonly signingKeys: SigningKeysStore;
  readonly impersonation: ImpersonationStore;
  readonly operators: OperatorsStore;
  readonly rateLimits: RateLimitsStore;
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres') {
    this.#db = db;
    this.dialect = dialect;
    const ports = bindPorts(db, dialect);
    this.projects = ports.projects;
    this.organizations = ports.organizations;
    this.members = ports.members;
    this.audit = ports.audit;
    this.sessions = ports.sessions;
    this.signingKeys = ports.signingKeys;
    this.impersonation = ports.impersonation;
    this.operators = ports.operators;
    this.rateLimits = ports.rateLimits;
  }

  async transaction<T>(work: (tx: StorePorts) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute(async (trx) => {
      // SQLite starts a transaction as a reader; if another process (the CLI beside a server) writes
      // before this one's first write, that write fails at once with "database is locked" instead of
      // waiting. A write that matches no row takes the write lock first, so busy_timeout applies.
      if (this.dialect === 'sqlite') await sql`update projects set project_id = project_id where 1 = 0`.execute(trx);
      return work(bindPorts(trx, this.dialect));
    });
  }

  async ping(): Promise<void> {
    await this.#db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }
}
