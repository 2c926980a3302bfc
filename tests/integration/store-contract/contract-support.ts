import pg from 'pg';
import { afterAll, beforeEach, expect } from 'vitest';
import { UniqueConstraintError } from '../../../src/domain/common/unique-constraint-error.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../../src/storage/database.js';
import { migrate } from '../../../src/storage/open-store.js';
import { openPostgres } from '../../../src/storage/postgres/postgres-database.js';
import { openSqlite } from '../../../src/storage/sqlite/sqlite-database.js';
import { createSqlStore, type Store } from '../../../src/storage/store.js';
import type { StoreFactory } from '../../support/stores.js';

/** Hands out an empty, migrated store per test. */
export interface FreshStoreSource {
  /** An empty store; whatever the previous call returned must no longer be used. */
  next(): Promise<Store>;
  /** Closes the store and drops what it created. */
  finish(): Promise<void>;
}

/**
 * SQLite opens a new in-memory database per test (a few milliseconds). PostgreSQL keeps one
 * throwaway database per suite and empties its tables between tests, because CREATE DATABASE per
 * test costs far more and serializes across parallel test files.
 */
export function freshStoreSource(factory: StoreFactory): FreshStoreSource {
  let opened: { store: Store; databaseUrl: string | undefined; cleanup: () => Promise<void> } | undefined;
  let admin: pg.Client | undefined;
  return {
    async next() {
      if (opened !== undefined && opened.databaseUrl !== undefined && admin !== undefined) {
        await emptyPostgresTables(admin);
        return opened.store;
      }
      await opened?.cleanup();
      opened = await factory.open();
      if (opened.databaseUrl !== undefined) {
        admin = new pg.Client({ connectionString: opened.databaseUrl });
        await admin.connect();
      }
      return opened.store;
    },
    async finish() {
      await admin?.end();
      await opened?.cleanup();
      admin = undefined;
      opened = undefined;
    },
  };
}

/** Every table except the migration bookkeeping, so later migrations' tables are emptied too. */
async function emptyPostgresTables(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ tablename: string }>(
    `select tablename from pg_tables where schemaname = 'public' and tablename not like 'understudy_migrations%'`,
  );
  if (rows.length === 0) return;
  await client.query(`truncate table ${rows.map((row) => `"${row.tablename}"`).join(', ')} cascade`);
}

/** Registers hooks that give every test of the enclosing `describe` an empty store, and returns a getter for it. */
export function useFreshStore(factory: StoreFactory): () => Store {
  const source = freshStoreSource(factory);
  let current: Store | undefined;
  beforeEach(async () => {
    current = await source.next();
  });
  afterAll(async () => {
    await source.finish();
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('the store is opened in beforeEach; call the getter inside a test');
    return current;
  };
}

/** Awaits `write`, expecting it to fail with a UniqueConstraintError, and returns the field it names. */
export async function uniqueViolationField(write: Promise<unknown>): Promise<string> {
  const outcome = await write.then(
    () => 'resolved',
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(UniqueConstraintError);
  return (outcome as UniqueConstraintError).field;
}

/** A store of this dialect together with a raw connection to its database, to look at rows as stored. */
export async function openWithRawAccess(factory: StoreFactory): Promise<{ store: Store; db: Kysely<Database>; close: () => Promise<void> }> {
  const opened = await factory.open();
  if (opened.databaseUrl !== undefined) {
    const db = openPostgres(opened.databaseUrl);
    return {
      store: opened.store,
      db,
      async close() {
        await db.destroy();
        await opened.cleanup();
      },
    };
  }
  // An in-memory SQLite database is private to its connection, so build the store on a connection we hold.
  await opened.cleanup();
  const db = openSqlite(':memory:');
  await migrate(db);
  return { store: createSqlStore(db, 'sqlite'), db, close: () => db.destroy() };
}
