import type { Kysely } from 'kysely';
import type { AuditStore } from '../domain/audit/audit-store.js';
import type { MembersStore } from '../domain/members/members-store.js';
import type { OrganizationsStore } from '../domain/organizations/organizations-store.js';
import type { ProjectsStore } from '../domain/projects/projects-store.js';
import type { Database } from './database.js';
import { AuditSqlStore } from './sql/audit-sql-store.js';
import { MembersSqlStore } from './sql/members-sql-store.js';
import { OrganizationsSqlStore } from './sql/organizations-sql-store.js';
import { ProjectsSqlStore } from './sql/projects-sql-store.js';

/** Every capability's port, bound to one connection or one transaction. */
export interface StorePorts {
  readonly projects: ProjectsStore;
  readonly organizations: OrganizationsStore;
  readonly members: MembersStore;
  readonly audit: AuditStore;
}

/** The whole storage layer (style rule 13): the ports, plus transactions that bind them all. */
export interface Store extends StorePorts {
  readonly dialect: 'sqlite' | 'postgres';
  transaction<T>(work: (tx: StorePorts) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

function bindPorts(db: Kysely<Database>): StorePorts {
  return {
    projects: new ProjectsSqlStore(db),
    organizations: new OrganizationsSqlStore(db),
    members: new MembersSqlStore(db),
    audit: new AuditSqlStore(db),
  };
}

export class SqlStore implements Store {
  readonly dialect: 'sqlite' | 'postgres';
  readonly projects: ProjectsStore;
  readonly organizations: OrganizationsStore;
  readonly members: MembersStore;
  readonly audit: AuditStore;
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres') {
    this.#db = db;
    this.dialect = dialect;
    const ports = bindPorts(db);
    this.projects = ports.projects;
    this.organizations = ports.organizations;
    this.members = ports.members;
    this.audit = ports.audit;
  }

  async transaction<T>(work: (tx: StorePorts) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((trx) => work(bindPorts(trx)));
  }

  async ping(): Promise<void> {
    await this.#db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }
}
