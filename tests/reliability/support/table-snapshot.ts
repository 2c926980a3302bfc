import { createHash } from 'node:crypto';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { sqliteFileIn } from '../../../src/storage/open-store.js';
import type { TestServer } from '../../support/test-server.js';

/**
 * Every table of a test server's database, read over a second connection with plain SQL (not the
 * store), so the hostile-input tests can prove a refused request wrote nothing at all. Tables are
 * listed from the catalogue, so tables added by later migrations are covered without a change here.
 */
export interface TableSnapshot {
  /** Row count and a hash of the rows (sorted, so order does not matter), by table. */
  readonly tables: ReadonlyMap<string, { readonly rows: number; readonly hash: string }>;
  /** Audit events written for refused attempts, which are recorded by design (docs/impersonation.md). */
  readonly refusals: number;
}

export interface DatabaseProbe {
  snapshot(): Promise<TableSnapshot>;
  /** Every value of `column` in `table`, e.g. digests that must never appear in a response. */
  values(table: string, column: string): Promise<string[]>;
  close(): Promise<void>;
}

/** Refusals are audited even though nothing else changes; every other row must stay as it was. */
export const REFUSAL_EVENT_TYPES: readonly string[] = ['impersonation.mint_refused', 'impersonation.redemption_refused', 'operator.sign_in_failed', 'operator.locked'];

/**
 * Rows that follow an audit event and change with it alone: its chain's head (a refusal's event joins
 * the organization's or project's audit chain), and for a published event the webhook outbox and the
 * deliveries fanned out from it in the background. `audit_events` itself is compared, so these are not.
 */
const AUDIT_FOLLOWER_TABLES: ReadonlySet<string> = new Set(['audit_chain_heads', 'webhook_outbox', 'webhook_deliveries']);

/** A refused password or TOTP code counts towards the operator's lockout: these columns may change then. */
const LOCKOUT_COLUMNS: Readonly<Record<string, readonly string[]>> = { operators: ['failed_attempts', 'locked_until', 'updated_at'] };

type Row = Record<string, unknown>;

export async function openDatabaseProbe(server: TestServer): Promise<DatabaseProbe> {
  if (server.databaseUrl !== undefined) {
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    const query = async (sql: string): Promise<Row[]> => (await client.query(sql)).rows as Row[];
    const tables = async (): Promise<string[]> =>
      (await query("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")).map((row) => String(row.name));
    return probe(tables, query, () => client.end());
  }
  const db = new SQLite(sqliteFileIn(server.dataDir), { readonly: true, fileMustExist: true });
  const query = async (sql: string): Promise<Row[]> => db.prepare(sql).all() as Row[];
  const tables = async (): Promise<string[]> => (await query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")).map((row) => String(row.name));
  return probe(tables, query, async () => {
    db.close();
  });
}

function probe(tables: () => Promise<string[]>, query: (sql: string) => Promise<Row[]>, close: () => Promise<void>): DatabaseProbe {
  const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;
  return {
    async snapshot() {
      const result = new Map<string, { rows: number; hash: string }>();
      let refusals = 0;
      for (const table of (await tables()).sort()) {
        if (AUDIT_FOLLOWER_TABLES.has(table)) continue;
        const skipped = new Set(LOCKOUT_COLUMNS[table] ?? []);
        let rows = (await query(`SELECT * FROM ${quote(table)}`)).map((row) =>
          JSON.stringify(Object.fromEntries(Object.entries(row).filter(([column]) => !skipped.has(column))), (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)),
        );
        if (table === 'audit_events') {
          const kept = rows.filter((row) => !REFUSAL_EVENT_TYPES.some((type) => row.includes(`"type":"${type}"`)));
          refusals = rows.length - kept.length;
          rows = kept;
        }
        result.set(table, { rows: rows.length, hash: createHash('sha256').update(rows.sort().join('\n')).digest('hex') });
      }
      return { tables: result, refusals };
    },
    async values(table, column) {
      return (await query(`SELECT ${quote(column)} AS value FROM ${quote(table)}`)).map((row) => row.value).filter((value): value is string => typeof value === 'string' && value !== '');
    },
    close,
  };
}

/** The tables whose rows differ between two snapshots (refusal audit events excepted). */
export function changedTables(before: TableSnapshot, after: TableSnapshot): string[] {
  const names = new Set([...before.tables.keys(), ...after.tables.keys()]);
  return [...names].filter((name) => before.tables.get(name)?.hash !== after.tables.get(name)?.hash).sort();
}
