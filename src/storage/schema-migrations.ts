import { Migrator, sql, type Kysely } from 'kysely';
import type { Database } from './database.js';
import { migrationProvider } from './migrations/index.js';

/** Kysely's bookkeeping tables, named for Understudy (every release has used these names). */
export const MIGRATION_TABLE = 'understudy_migrations';
export const MIGRATION_LOCK_TABLE = 'understudy_migrations_lock';

/** One migration this version knows, and when it was applied to the database (undefined: pending). */
export interface KnownMigration {
  readonly name: string;
  readonly appliedAt: Date | undefined;
}

/** A migration the database records as applied that this version does not know: a newer version applied it. */
export interface UnknownMigration {
  readonly name: string;
  readonly appliedAt: Date | undefined;
}

export interface MigrationStatus {
  /** Every migration of this version, by name (the order they apply in). */
  readonly migrations: readonly KnownMigration[];
  /** The names of those not applied yet. */
  readonly pending: readonly string[];
  /** Applied migrations this version does not know; non-empty means the database is newer than this version. */
  readonly unknown: readonly UnknownMigration[];
}

/**
 * The database's schema does not match what this version runs on: migrations are pending and
 * UNDERSTUDY_AUTO_MIGRATE is false, or a newer version migrated it. A configuration problem (the
 * operator runs `understudy migrate`, or the right version), not a crash: the CLI exits 78.
 */
export class DatabaseSchemaError extends Error {
  override readonly name = 'DatabaseSchemaError';
  readonly kind: 'pending' | 'newer';
  readonly migrations: readonly string[];

  constructor(kind: 'pending' | 'newer', migrations: readonly string[], message: string) {
    super(message);
    this.kind = kind;
    this.migrations = migrations;
  }
}

/** The names of every migration this version has, in the order they apply. */
export async function knownMigrationNames(): Promise<string[]> {
  return Object.keys(await migrationProvider.getMigrations()).sort();
}

function migratorFor(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider: migrationProvider, migrationTableName: MIGRATION_TABLE, migrationLockTableName: MIGRATION_LOCK_TABLE });
}

/**
 * Which migrations are applied and which are pending; reads only (on a database without the
 * bookkeeping table, every migration is pending and nothing is created).
 */
export async function migrationStatus(db: Kysely<Database>): Promise<MigrationStatus> {
  const infos = await migratorFor(db).getMigrations();
  const migrations = infos.map((info) => ({ name: info.name, appliedAt: info.executedAt }));
  const known = new Set(migrations.map((migration) => migration.name));
  // Kysely's list holds only the migrations this version has; the table may record more.
  const unknown = (await appliedRows(db)).filter((row) => !known.has(row.name)).sort((a, b) => a.name.localeCompare(b.name));
  return { migrations, pending: migrations.filter((migration) => migration.appliedAt === undefined).map((migration) => migration.name), unknown };
}

async function appliedRows(db: Kysely<Database>): Promise<UnknownMigration[]> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((table) => table.name === MIGRATION_TABLE)) return [];
  const { rows } = await sql<{ name: string; timestamp: string }>`select name, timestamp from ${sql.table(MIGRATION_TABLE)}`.execute(db);
  return rows.map((row) => ({ name: row.name, appliedAt: Number.isNaN(Date.parse(row.timestamp)) ? undefined : new Date(row.timestamp) }));
}

/**
 * Applies every pending migration, in order, and answers the names this call applied (none when
 * another process applied them first: on PostgreSQL, Kysely's Migrator holds an advisory lock for
 * the whole run, so of several processes migrating at once one applies each step and the others
 * find nothing left to do). A database a newer version migrated is refused with a
 * DatabaseSchemaError before anything is applied.
 */
export async function migrate(db: Kysely<Database>): Promise<string[]> {
  const { error, results } = await migratorFor(db).migrateToLatest();
  if (error === undefined) return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
  // Kysely refuses a database that records migrations it was not given ("corrupted migrations: …
  // is missing"); said here in an operator's words.
  const newer = await newerDatabaseError(db).catch(() => undefined);
  if (newer !== undefined) throw newer;
  const failed = results?.find((result) => result.status === 'Error');
  const which = failed === undefined ? 'database migration' : `database migration ${failed.migrationName}`;
  throw new Error(`${which} failed: ${(error as Error).message ?? String(error)}`);
}

/** Refuses unless every migration of this version is applied and none other is: for starts with UNDERSTUDY_AUTO_MIGRATE=false. */
export async function requireCurrentSchema(db: Kysely<Database>): Promise<void> {
  const status = await migrationStatus(db);
  if (status.unknown.length > 0) throw newerDatabase(status.unknown.map((migration) => migration.name));
  if (status.pending.length > 0) throw pendingMigrations(status.pending, status.pending.length === status.migrations.length);
}

async function newerDatabaseError(db: Kysely<Database>): Promise<DatabaseSchemaError | undefined> {
  const { unknown } = await migrationStatus(db);
  return unknown.length === 0 ? undefined : newerDatabase(unknown.map((migration) => migration.name));
}

export function newerDatabase(names: readonly string[]): DatabaseSchemaError {
  return new DatabaseSchemaError(
    'newer',
    names,
    [
      `The database was migrated by a newer version of Understudy: it records ${names.length === 1 ? 'a migration' : 'migrations'} this version does not have (${names.join(', ')}).`,
      'Downgrades are not supported. Run the version that migrated it (or a later one), or restore a backup taken before the upgrade (docs/upgrading.md).',
    ].join('\n'),
  );
}

/** `empty`: no migration is applied (a new database), which `understudy migrate` creates. */
export function pendingMigrations(names: readonly string[], empty: boolean): DatabaseSchemaError {
  const what = empty
    ? `The database has no schema yet (${names.length} migrations to apply: ${names.join(', ')})`
    : `The database has ${names.length} pending migration${names.length === 1 ? '' : 's'} (${names.join(', ')})`;
  return new DatabaseSchemaError(
    'pending',
    names,
    [
      `${what}, and UNDERSTUDY_AUTO_MIGRATE is false, so they are not applied at start.`,
      'Back up the database, run `understudy migrate`, then start again (docs/upgrading.md).',
    ].join('\n'),
  );
}
