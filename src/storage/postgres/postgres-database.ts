import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../database.js';
import { hotStatementName } from '../sql/hot-statements.js';

/**
 * How long the pool waits for a new connection. A database that is down refuses at once; one that
 * is unreachable (a dropped network) would otherwise hang each request until TCP gives up.
 */
export const CONNECT_TIMEOUT_MILLISECONDS = 2_000;
/** PostgreSQL cancels a statement running longer than this (server side; SQLSTATE 57014). */
export const STATEMENT_TIMEOUT_MILLISECONDS = 10_000;
/**
 * The client gives up on an answer after this long, for a connection that died silently. Longer
 * than the statement timeout, so a live server always reports its own cancellation first.
 */
export const QUERY_TIMEOUT_MILLISECONDS = 15_000;

/**
 * A connection pool for deployments that run several Understudy processes on one database. It
 * fails fast while the database is away (each failure is answered 503 `server_unavailable`, see
 * src/storage/database-unavailable.ts) and reconnects by itself when it is back: broken clients are
 * dropped from the pool and new ones are opened on demand (docs/reliability.md, "Database outage").
 */
export function openPostgres(connectionString: string, options: { maxConnections?: number } = {}): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MILLISECONDS,
    statement_timeout: STATEMENT_TIMEOUT_MILLISECONDS,
    query_timeout: QUERY_TIMEOUT_MILLISECONDS,
    keepAlive: true,
  });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  // Nor may a checked-out one: pg-pool listens only to idle clients, so a connection that dies under a
  // request (a database restart) raised an uncaught 'error' and killed the process. Its queries still
  // fail (503), and the pool discards the broken client when it is released.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    prepareHotStatements(client);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  POOLS.set(db, pool);
  return db;
}

/** The pool behind each database `openPostgres` opened; Kysely does not hand it out. */
const POOLS = new WeakMap<Kysely<Database>, pg.Pool>();

/** A connection pool's state: connections open (in use or idle), idle ones, and queries waiting for one. */
export interface PoolConnections {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

/** The pool's connections now, read when metrics are scraped; undefined for a database `openPostgres` did not open (SQLite). */
export function poolConnections(db: Kysely<Database>): PoolConnections | undefined {
  const pool = POOLS.get(db);
  return pool === undefined ? undefined : { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/**
 * Runs the hot statements (src/storage/sql/hot-statements.ts) as named prepared statements on this
 * connection, answering positional rows; node-postgres prepares a name once per connection and
 * afterwards only binds and executes it. Kysely passes every query as `query(text, values)`, so
 * this is where to choose.
 */
function prepareHotStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (text: unknown, ...rest: unknown[]) => {
    const name = typeof text === 'string' ? hotStatementName(text) : undefined;
    if (name === undefined || !Array.isArray(rest[0])) return query(text, ...rest);
    return query({ name, text, values: rest[0], rowMode: 'array' }, ...rest.slice(1));
  };
}
