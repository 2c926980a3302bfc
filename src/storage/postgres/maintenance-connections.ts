import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../database.js';
import { CONNECT_TIMEOUT_MILLISECONDS } from './postgres-database.js';

/**
 * One connection for applying migrations on PostgreSQL, without the serving pool's statement
 * timeout: a step that rewrites a large table, or a process waiting on Kysely's migration lock
 * while another applies the steps, may take longer than any request should, and cancelling either
 * halfway would only make the next start wait and try again.
 */
export function openPostgresForMigrations(connectionString: string): Kysely<Database> {
  // Explicit, so a timeout set on the role, the database or PGOPTIONS does not apply either.
  return singleConnection(connectionString, 'SET statement_timeout = 0');
}

/** One connection whose transactions cannot write, for commands that only look (`understudy migrate --status`). */
export function openPostgresReadOnly(connectionString: string): Kysely<Database> {
  return singleConnection(connectionString, 'SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY');
}

/**
 * The setting is a SET run on the new connection, not a startup parameter (pg's `options`): an
 * explicit `options` would replace the operator's PGOPTIONS (a search_path, say), and an
 * `options` in the URL would replace it in turn, so the setting could be lost. pg-pool's `verify`
 * runs before the connection is handed out, and a failure fails the command's first query
 * instead of letting it run without the setting.
 */
function singleConnection(connectionString: string, setting: string): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString,
    max: 1,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MILLISECONDS,
    keepAlive: true,
    verify: (client, done) => {
      client.query(setting).then(
        () => done(),
        (error: Error) => done(error),
      );
    },
  });
  // A connection that drops must not crash the process; the command's query fails instead.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
