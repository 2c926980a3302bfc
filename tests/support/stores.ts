import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore } from '../../src/storage/open-store.js';
import type { Store } from '../../src/storage/store.js';

/**
 * The databases every storage and service test runs against (style rule 12): SQLite always,
 * PostgreSQL when UNDERSTUDY_TEST_DATABASE_URL is set, each test file in its own throwaway database.
 */
export interface StoreFactory {
  readonly name: 'sqlite' | 'postgres';
  /** Opens a fresh, migrated, empty store; `cleanup` closes it and drops what it created. */
  open(): Promise<{ store: Store; databaseUrl: string | undefined; cleanup: () => Promise<void> }>;
}

export const POSTGRES_URL = process.env.UNDERSTUDY_TEST_DATABASE_URL;
export const POSTGRES_SKIP_REASON = 'PostgreSQL suite skipped: set UNDERSTUDY_TEST_DATABASE_URL (for example postgres://postgres@127.0.0.1:5432/postgres) to run it';

const sqliteFactory: StoreFactory = {
  name: 'sqlite',
  async open() {
    const store = await openStore({ databaseUrl: undefined, sqliteFile: ':memory:' });
    return { store, databaseUrl: undefined, cleanup: () => store.close() };
  },
};

const postgresFactory: StoreFactory = {
  name: 'postgres',
  async open() {
    const { url, drop } = await createThrowawayPostgresDatabase();
    const store = await openStore({ databaseUrl: url, sqliteFile: ':memory:' });
    return {
      store,
      databaseUrl: url,
      async cleanup() {
        await store.close();
        await drop();
      },
    };
  },
};

export const STORES: readonly StoreFactory[] = POSTGRES_URL ? [sqliteFactory, postgresFactory] : [sqliteFactory];

if (!POSTGRES_URL && !process.env.UNDERSTUDY_QUIET_SKIPS) {
  process.stderr.write(`[understudy tests] ${POSTGRES_SKIP_REASON}\n`);
}

/** Creates `understudy_test_<random>` next to the configured database; `drop` removes it even if clients linger. */
export async function createThrowawayPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!POSTGRES_URL) throw new Error(POSTGRES_SKIP_REASON);
  const name = `understudy_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
