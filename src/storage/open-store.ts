import { join } from 'node:path';
import { Migrator } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import { migrationProvider } from './migrations/index.js';
import { openPostgres } from './postgres/postgres-database.js';
import { openSqlite } from './sqlite/sqlite-database.js';
import { createSqlStore, type Store } from './store.js';

export interface StoreLocation {
  /** A postgres:// URL, or undefined for SQLite. */
  readonly databaseUrl: string | undefined;
  /** Where the SQLite file lives (`<dataDir>/understudy.db`), or ':memory:'. */
  readonly sqliteFile: string;
}

export function sqliteFileIn(dataDir: string): string {
  return join(dataDir, 'understudy.db');
}

/** Opens the database and brings its schema up to date before anything else touches it. */
export async function openStore(location: StoreLocation): Promise<Store> {
  const isPostgres = location.databaseUrl !== undefined;
  const db = isPostgres ? openPostgres(location.databaseUrl as string) : openSqlite(location.sqliteFile);
  try {
    await migrate(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return createSqlStore(db, isPostgres ? 'postgres' : 'sqlite');
}

export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider, migrationTableName: 'understudy_migrations', migrationLockTableName: 'understudy_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? String(error)}`);
  }
}
