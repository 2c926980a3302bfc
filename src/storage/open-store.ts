import { existsSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './database.js';
import { openPostgresForMigrations, openPostgresReadOnly } from './postgres/maintenance-connections.js';
import { openPostgres } from './postgres/postgres-database.js';
import { knownMigrationNames, migrate, pendingMigrations, requireCurrentSchema } from './schema-migrations.js';
import { openSqlite } from './sqlite/sqlite-database.js';
import { createSqlStore, type Store } from './store.js';

export { DatabaseSchemaError, migrate, migrationStatus, type MigrationStatus } from './schema-migrations.js';

export interface StoreLocation {
  /** A postgres:// URL, or undefined for SQLite. */
  readonly databaseUrl: string | undefined;
  /** Where the SQLite file lives (`<dataDir>/understudy.db`), or ':memory:'. */
  readonly sqliteFile: string;
}

export interface OpenStoreOptions {
  /**
   * `apply` (the default): pending migrations are applied first. `require-current`: nothing is
   * applied, and a database with pending migrations is refused (DatabaseSchemaError), for
   * operators who migrate with `understudy migrate` (UNDERSTUDY_AUTO_MIGRATE=false). Either way a
   * database a newer version migrated is refused.
   */
  readonly migrate?: 'apply' | 'require-current';
}

export function sqliteFileIn(dataDir: string): string {
  return join(dataDir, 'understudy.db');
}

/** A connection (pool) to the database, as it is: nothing migrated or checked. SQLite's file is created if missing. */
export function openDatabase(location: StoreLocation): Kysely<Database> {
  return location.databaseUrl !== undefined ? openPostgres(location.databaseUrl) : openSqlite(location.sqliteFile);
}

/**
 * A connection that cannot change the database, for commands that only look: PostgreSQL in
 * read-only transactions; SQLite opened read-only, or undefined when its file does not exist (so
 * looking creates neither the file nor its directory).
 */
export function openDatabaseForReading(location: StoreLocation): Kysely<Database> | undefined {
  if (location.databaseUrl !== undefined) return openPostgresReadOnly(location.databaseUrl);
  if (location.sqliteFile !== ':memory:' && !existsSync(location.sqliteFile)) return undefined;
  const connection = new SQLite(location.sqliteFile, { readonly: true, fileMustExist: location.sqliteFile !== ':memory:' });
  // Waits for a writer's lock (the server checkpointing) instead of failing.
  connection.pragma('busy_timeout = 5000');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
}

/** Opens the database and, by default, brings its schema up to date before anything else touches it. */
export async function openStore(location: StoreLocation, options: OpenStoreOptions = {}): Promise<Store> {
  const mode = options.migrate ?? 'apply';
  const isPostgres = location.databaseUrl !== undefined;
  if (mode === 'require-current' && !isPostgres && location.sqliteFile !== ':memory:' && !existsSync(location.sqliteFile)) {
    // Refused without leaving an empty database file behind.
    throw pendingMigrations(await knownMigrationNames(), true);
  }
  if (mode === 'apply' && isPostgres) await migrateOnce(openPostgresForMigrations(location.databaseUrl as string));
  const db = openDatabase(location);
  try {
    if (mode === 'require-current') await requireCurrentSchema(db);
    // SQLite has one connection: migrated on the one the store keeps.
    else if (!isPostgres) await migrate(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return createSqlStore(db, isPostgres ? 'postgres' : 'sqlite');
}

/** Applies the pending migrations through `db` and closes it; answers the names applied. */
export async function migrateOnce(db: Kysely<Database>): Promise<string[]> {
  try {
    return await migrate(db);
  } finally {
    await db.destroy();
  }
}
