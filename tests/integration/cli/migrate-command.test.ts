import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/storage/database.js';
import { migrate } from '../../../src/storage/open-store.js';
import { openPostgresForMigrations, openPostgresReadOnly } from '../../../src/storage/postgres/maintenance-connections.js';
import { openPostgres, STATEMENT_TIMEOUT_MILLISECONDS } from '../../../src/storage/postgres/postgres-database.js';
import { knownMigrationNames } from '../../../src/storage/schema-migrations.js';
import { openSqlite } from '../../../src/storage/sqlite/sqlite-database.js';
import { createThrowawayPostgresDatabase, POSTGRES_SKIP_REASON, POSTGRES_URL } from '../../support/stores.js';
import { TEST_MASTER_KEY } from '../../support/test-constants.js';
import { migrateTo } from '../migrations/migration-support.js';
import { killLeftoverProcesses, runCli, runCliToExit, temporaryDirectory } from './cli-process.js';

/**
 * `understudy migrate` and UNDERSTUDY_AUTO_MIGRATE as an operator meets them: the CLI as a child
 * process, on SQLite and (with UNDERSTUDY_TEST_DATABASE_URL) on a throwaway PostgreSQL database.
 */
const NEWER_MIGRATION = '9999-from-a-newer-version';

interface Target {
  readonly env: Record<string, string>;
  readonly dataDir: string;
  /** A bare connection to the same database, for arranging and inspecting it. */
  open(): Kysely<Database>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => killLeftoverProcesses());

async function sqliteTarget(): Promise<Target> {
  const scratch = temporaryDirectory('migrate');
  cleanups.push(scratch.remove);
  const dataDir = join(scratch.path, 'data');
  return { env: { UNDERSTUDY_DATA_DIR: dataDir }, dataDir, open: () => track(openSqlite(join(dataDir, 'understudy.db'))) };
}

async function postgresTarget(): Promise<Target> {
  const scratch = temporaryDirectory('migrate-pg');
  cleanups.push(scratch.remove);
  const database = await createThrowawayPostgresDatabase();
  cleanups.push(database.drop);
  return {
    env: { UNDERSTUDY_DATA_DIR: scratch.path, UNDERSTUDY_DATABASE_URL: database.url, UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY },
    dataDir: scratch.path,
    open: () => track(openPostgres(database.url)),
  };
}

/** Closed after the test (before a PostgreSQL database is dropped). */
function track(db: Kysely<Database>): Kysely<Database> {
  cleanups.push(() => db.destroy());
  return db;
}

async function appliedNames(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from understudy_migrations order by name`.execute(db);
  return rows.map((row) => row.name);
}

async function tableNames(db: Kysely<Database>): Promise<string[]> {
  return (await db.introspection.getTables({ withInternalKyselyTables: true })).map((table) => table.name);
}

interface StatusJson {
  exists: boolean;
  migrations: { name: string; state: string; applied_at: string | null }[];
  pending: string[];
  unknown: string[];
}

async function statusJson(env: Record<string, string>, exitCode = 0): Promise<StatusJson> {
  const run = await runCliToExit(['migrate', '--status', '--json'], env);
  expect(run.code, run.stderr).toBe(exitCode);
  return JSON.parse(run.stdout) as StatusJson;
}

const DIALECTS = [
  { name: 'SQLite', target: sqliteTarget },
  ...(POSTGRES_URL ? [{ name: 'PostgreSQL', target: postgresTarget }] : []),
];

describe.each(DIALECTS)('understudy migrate on $name', ({ name, target }) => {
  it('--status before there is a database says so and creates nothing; serve with UNDERSTUDY_AUTO_MIGRATE=false refuses to create it', async () => {
    const { env, dataDir, open } = await target();
    const run = await runCliToExit(['migrate', '--status'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^No database yet: the (SQLite|PostgreSQL) database /);
    const names = await knownMigrationNames();
    expect(run.stdout).toContain(`0 applied, ${names.length} pending`);
    if (name === 'SQLite') expect(existsSync(dataDir)).toBe(false);
    else expect(await tableNames(open())).toEqual([]);

    // Nor does a start that may not migrate: it says what `understudy migrate` would create.
    const serve = await runCliToExit(['serve'], { ...env, UNDERSTUDY_AUTO_MIGRATE: 'false', UNDERSTUDY_PORT: '0' });
    expect(serve.code, serve.stderr).toBe(78);
    expect(serve.stderr).toContain(`The database has no schema yet (${names.length} migrations to apply: ${names.join(', ')})`);
    if (name === 'SQLite') expect(existsSync(join(dataDir, 'understudy.db'))).toBe(false);
    else expect(await tableNames(open())).toEqual([]);
  });

  it('applies every migration and says which; --status then lists them applied; a second run has nothing to apply', async () => {
    const { env, dataDir, open } = await target();
    const names = await knownMigrationNames();
    const first = await runCliToExit(['migrate'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.split('\n').filter((line) => line.startsWith('  '))).toEqual(names.map((migration) => `  ${migration}`));
    expect(first.stdout).toContain(`Applied ${names.length} migrations to the ${name} database`);

    const databaseFile = join(dataDir, 'understudy.db');
    const before = name === 'SQLite' ? readFileSync(databaseFile) : undefined;
    const status = await statusJson(env);
    expect(status).toMatchObject({ exists: true, pending: [], unknown: [] });
    if (before !== undefined) {
      // --status changed nothing; reading a WAL database read-only, SQLite may leave an empty -wal and its index (docs/upgrading.md).
      expect(readFileSync(databaseFile).equals(before)).toBe(true);
      if (existsSync(`${databaseFile}-wal`)) expect(statSync(`${databaseFile}-wal`).size).toBe(0);
    }
    expect(status.migrations.map((migration) => [migration.name, migration.state])).toEqual(names.map((migration) => [migration, 'applied']));
    for (const migration of status.migrations) expect(Date.parse(migration.applied_at ?? '')).not.toBeNaN();

    const second = await runCliToExit(['migrate'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^Nothing to apply: /);

    // The schema only: no project, no credentials, no master key.
    const db = open();
    expect(await appliedNames(db)).toEqual(names);
    expect(await db.selectFrom('projects').selectAll().execute()).toEqual([]);
    expect(existsSync(dataDir) ? readdirSync(dataDir).filter((file) => !file.startsWith('understudy.db')) : []).toEqual([]);
  });

  it('with UNDERSTUDY_AUTO_MIGRATE=false, serve refuses an older database (exit 78, naming the pending migrations) until `understudy migrate` ran', async () => {
    const { env, open } = await target();
    const names = await knownMigrationNames();
    const pending = names.slice(-2);
    const db = open();
    await migrateTo(db, names[names.length - 3] as string);
    await db.destroy();

    const status = await statusJson(env);
    expect(status.pending).toEqual(pending);
    expect(status.migrations.filter((migration) => migration.state === 'applied').map((migration) => migration.name)).toEqual(names.slice(0, -2));

    const serveEnv = { ...env, UNDERSTUDY_AUTO_MIGRATE: 'false', UNDERSTUDY_PORT: '0', UNDERSTUDY_LOG_LEVEL: 'info' };
    const refused = await runCliToExit(['serve'], serveEnv);
    expect(refused.code, refused.stderr).toBe(78);
    expect(refused.stderr).toContain(`The database has 2 pending migrations (${pending.join(', ')})`);
    expect(refused.stderr).toContain('run `understudy migrate`');
    // Nothing was applied or bootstrapped by the refused start.
    const unchanged = open();
    expect(await appliedNames(unchanged)).toEqual(names.slice(0, -2));
    expect(await unchanged.selectFrom('projects').selectAll().execute()).toEqual([]);
    await unchanged.destroy();

    const migrated = await runCliToExit(['migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain(`Applied 2 migrations to the ${name} database`);
    expect(migrated.stdout.split('\n').filter((line) => line.startsWith('  '))).toEqual(pending.map((migration) => `  ${migration}`));

    const server = runCli(['serve'], serveEnv);
    await server.listening();
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  it('refuses a database a newer version migrated: serve (either way), migrate and --status exit 78, --status listing the unknown migration', async () => {
    const { env, open } = await target();
    const db = open();
    await migrate(db);
    await sql`insert into understudy_migrations (name, timestamp) values (${NEWER_MIGRATION}, ${new Date().toISOString()})`.execute(db);
    await db.destroy();

    for (const autoMigrate of ['true', 'false']) {
      const serve = await runCliToExit(['serve'], { ...env, UNDERSTUDY_AUTO_MIGRATE: autoMigrate, UNDERSTUDY_PORT: '0' });
      expect(serve.code, `AUTO_MIGRATE=${autoMigrate}: ${serve.stderr}`).toBe(78);
      expect(serve.stderr).toContain(`The database was migrated by a newer version of Understudy: it records a migration this version does not have (${NEWER_MIGRATION}).`);
      expect(serve.stderr).toContain('Downgrades are not supported.');
    }
    const migrated = await runCliToExit(['migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(78);
    expect(migrated.stderr).toContain('Downgrades are not supported.');

    const listed = await runCliToExit(['migrate', '--status'], env);
    expect(listed.code, listed.stderr).toBe(78);
    expect(listed.stdout).toMatch(new RegExp(`^${NEWER_MIGRATION} +applied, unknown to `, 'm'));
    expect(listed.stderr).toContain('Downgrades are not supported.');

    const status = await statusJson(env, 78);
    expect(status.unknown).toEqual([NEWER_MIGRATION]);
    expect(status.migrations.at(-1)).toMatchObject({ name: NEWER_MIGRATION, state: 'unknown' });
    expect(status.pending).toEqual([]);
  });
});

// Skipped without a PostgreSQL server: POSTGRES_SKIP_REASON says how to provide one.
describe.skipIf(!POSTGRES_URL)(`understudy migrate from several processes (${POSTGRES_URL ? 'PostgreSQL' : POSTGRES_SKIP_REASON})`, () => {
  it('two processes migrating one database at once apply each migration exactly once', async () => {
    const { env, open } = await postgresTarget();
    const names = await knownMigrationNames();
    const runs = await Promise.all([runCliToExit(['migrate', '--json'], env), runCliToExit(['migrate', '--json'], env)]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const [first, second] = runs.map((run) => (JSON.parse(run.stdout) as { applied: string[] }).applied) as [string[], string[]];
    expect([...first, ...second].sort()).toEqual(names);
    expect(first.filter((migration) => second.includes(migration))).toEqual([]);
    expect(await appliedNames(open())).toEqual(names);
  });

  it("honours the operator's PGOPTIONS (a search_path): migrate creates the schema there and --status reads it there", async () => {
    const { env } = await postgresTarget();
    const admin = new pg.Client({ connectionString: env.UNDERSTUDY_DATABASE_URL });
    await admin.connect();
    cleanups.push(() => admin.end());
    await admin.query('create schema tenant');
    const withOptions = { ...env, PGOPTIONS: '-c search_path=tenant' };

    const migrated = await runCliToExit(['migrate'], withOptions);
    expect(migrated.code, migrated.stderr).toBe(0);
    const { rows } = await admin.query<{ table_schema: string }>("select distinct table_schema from information_schema.tables where table_name in ('understudy_migrations', 'projects')");
    expect(rows.map((row) => row.table_schema)).toEqual(['tenant']);
    expect((await statusJson(withOptions)).pending).toEqual([]);
  });

  it("keeps its own settings whatever the URL's options say: --status's connection cannot write, the migration connection has no statement timeout", async () => {
    const { env } = await postgresTarget();
    const url = new URL(env.UNDERSTUDY_DATABASE_URL as string);
    url.searchParams.set('options', '-c default_transaction_read_only=off -c statement_timeout=1500');
    const reading = track(openPostgresReadOnly(url.toString()));
    expect((await sql<{ default_transaction_read_only: string }>`show default_transaction_read_only`.execute(reading)).rows).toEqual([{ default_transaction_read_only: 'on' }]);
    // SQLSTATE 25006: read_only_sql_transaction.
    await expect(sql`create table probe (id integer)`.execute(reading)).rejects.toMatchObject({ code: '25006' });
    const migrating = track(openPostgresForMigrations(url.toString()));
    expect((await sql<{ statement_timeout: string }>`show statement_timeout`.execute(migrating)).rows).toEqual([{ statement_timeout: '0' }]);
  });

  it('waits for another process that holds the migration lock longer than the statement timeout, then applies the migrations', async () => {
    const { env } = await postgresTarget();
    const holder = new pg.Client({ connectionString: env.UNDERSTUDY_DATABASE_URL });
    await holder.connect();
    cleanups.push(() => holder.end());
    // Kysely's PostgreSQL migration lock: an advisory lock, as another process applying migrations holds it.
    const lockId = '3853314791062309107';
    await holder.query(`select pg_advisory_lock(${lockId})`);
    const waiting = runCli(['migrate'], env);
    await new Promise((resolve) => setTimeout(resolve, STATEMENT_TIMEOUT_MILLISECONDS + 1_000));
    // Still waiting (not cut short by the serving pool's statement timeout, not done without the lock).
    expect(waiting.child.exitCode, waiting.stderr()).toBeNull();
    await holder.query(`select pg_advisory_unlock(${lockId})`);
    expect(await waiting.exited).toEqual({ code: 0, signal: null });
    expect(waiting.stdout()).toContain(`Applied ${(await knownMigrationNames()).length} migrations`);
  }, 30_000);
});
