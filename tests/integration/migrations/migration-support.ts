import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator, sql, type Kysely } from 'kysely';
import { expect } from 'vitest';
import type { Database } from '../../../src/storage/database.js';
import { migrationProvider } from '../../../src/storage/migrations/index.js';
import { openPostgres } from '../../../src/storage/postgres/postgres-database.js';
import { openSqlite } from '../../../src/storage/sqlite/sqlite-database.js';
import { createThrowawayPostgresDatabase, type StoreFactory } from '../../support/stores.js';

/**
 * What every migration test needs: a bare database per dialect, migrating to an exact step, and
 * reading tables back. Each test file calls `closeBareDatabases` after every test.
 */
const cleanups: (() => Promise<void>)[] = [];

export async function closeBareDatabases(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** A bare, unmigrated database of this dialect, closed (and dropped) by `closeBareDatabases`. */
export async function bareDatabase(dialect: StoreFactory['name']): Promise<Kysely<Database>> {
  if (dialect === 'postgres') {
    const { url, drop } = await createThrowawayPostgresDatabase();
    cleanups.push(drop);
    const db = openPostgres(url);
    cleanups.push(() => db.destroy());
    return db;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'understudy-migration-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const db = openSqlite(join(dataDir, 'understudy.db'));
  cleanups.push(() => db.destroy());
  return db;
}

/** Migrates to exactly `name`, with the bookkeeping tables of migrate() in src/storage/open-store.ts. */
export async function migrateTo(db: Kysely<Database>, name: string): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider, migrationTableName: 'understudy_migrations', migrationLockTableName: 'understudy_migrations_lock' });
  const { error } = await migrator.migrateTo(name);
  expect(error).toBeUndefined();
}

/**
 * Applies every later migration: the current stores read the current schema, so a test of how they
 * read rows written before a migration brings the database up to date first.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider, migrationTableName: 'understudy_migrations', migrationLockTableName: 'understudy_migrations_lock' });
  const { error } = await migrator.migrateToLatest();
  expect(error).toBeUndefined();
}

/** Every row of these tables, in a stable order, as the database returns them. */
export async function snapshotTables(db: Kysely<Database>, tables: readonly string[]): Promise<Record<string, Record<string, unknown>[]>> {
  const result: Record<string, Record<string, unknown>[]> = {};
  for (const table of tables) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
    result[table] = [...rows.rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }
  return result;
}

/** The table's columns and whether each is nullable; empty when the table does not exist. */
export async function columnsOf(db: Kysely<Database>, table: string): Promise<Record<string, boolean>> {
  const found = (await db.introspection.getTables()).find((candidate) => candidate.name === table);
  return Object.fromEntries((found?.columns ?? []).map((column) => [column.name, column.isNullable]));
}
