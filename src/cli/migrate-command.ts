import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { printableJson } from '../http/wire/json-text.js';
import { databaseLocationText, describeDatabase } from '../storage/database-location.js';
import { DatabaseSchemaError, migrateOnce, migrationStatus, openDatabaseForReading, sqliteFileIn, type MigrationStatus, type StoreLocation } from '../storage/open-store.js';
import { openPostgresForMigrations } from '../storage/postgres/maintenance-connections.js';
import { knownMigrationNames, newerDatabase } from '../storage/schema-migrations.js';
import { openSqlite } from '../storage/sqlite/sqlite-database.js';
import { formatTable, type Output, parsedOrUsage, printable } from './cli-support.js';
import { UsageError } from './keys-command.js';
import { packageVersion } from './version.js';

/** `understudy migrate`: the database schema brought up to date on the operator's command (docs/upgrading.md). */
export const MIGRATE_USAGE = `Usage: understudy migrate [--status] [--json] [--config <file>]

  Applies the database migrations this version has and the database lacks, in order, and prints
  the ones it applied. Several processes may run it at once: on PostgreSQL each migration is
  applied by one of them (the others wait, then find nothing left to do). It only changes the
  schema (and the rows a migration converts): it creates no project and writes no credentials.

  --status   List every migration, applied (with when) or pending, and change nothing: without a
             database yet, nothing is created. A database a newer version migrated is listed
             too, and exits 78.
  --json     The same as one JSON object.

Back up the database first (docs/backup.md). \`understudy serve\` applies pending migrations at
start unless UNDERSTUDY_AUTO_MIGRATE is false; then it refuses to start until this command ran.

Exit codes: 0 done (or, with --status, listed), 1 a migration failed or the database cannot be
reached, 2 bad arguments, 78 a configuration problem, or a database a newer version of Understudy
migrated (downgrades are not supported). See docs/upgrading.md.`;

export interface MigrateArguments {
  readonly help: boolean;
  readonly config: string | undefined;
  readonly status: boolean;
  readonly json: boolean;
}

/** Checks the arguments before anything is opened; `argv` starts with `migrate`. */
export function parseMigrateArguments(argv: readonly string[]): MigrateArguments {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' }, status: { type: 'boolean' }, json: { type: 'boolean' } },
  });
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`);
  return { help: values.help === true, config: values.config, status: values.status === true, json: values.json === true };
}

export async function runMigrateCli(argv: readonly string[], io: Output): Promise<number> {
  const parsed = parsedOrUsage(() => parseMigrateArguments(argv), MIGRATE_USAGE, io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const args = parsed.args;
  if (args.help) {
    io.out(MIGRATE_USAGE);
    return 0;
  }
  const config = loadConfig({ configFile: args.config });
  const location: StoreLocation = { databaseUrl: config.databaseUrl, sqliteFile: sqliteFileIn(config.dataDir) };
  try {
    return args.status ? await showStatus(location, args, io) : await applyPending(location, args, io);
  } catch (error) {
    if (error instanceof DatabaseSchemaError) {
      io.err(`understudy: ${printableLines(error.message)}`);
      return 78;
    }
    // Unreachable database, a failing step: the driver's message names no password.
    io.err(`understudy: ${printableLines((error as Error).message)}`);
    return 1;
  }
}

async function showStatus(location: StoreLocation, args: MigrateArguments, io: Output): Promise<number> {
  const database = printable(describeDatabase(location));
  const db = openDatabaseForReading(location);
  let status: MigrationStatus;
  if (db === undefined) {
    const names = await knownMigrationNames();
    status = { migrations: names.map((name) => ({ name, appliedAt: undefined })), pending: names, unknown: [] };
  } else {
    try {
      status = await migrationStatus(db);
    } finally {
      await db.destroy();
    }
  }
  const exists = db !== undefined;
  // A database a newer version migrated is listed, and refused as `serve` and `migrate` refuse it.
  const newer = status.unknown.length > 0 ? newerDatabase(status.unknown.map((migration) => migration.name)) : undefined;
  if (args.json) {
    io.out(printableJson(statusJson(location, exists, status)));
    if (newer === undefined) return 0;
    io.err(`understudy: ${printableLines(newer.message)}`);
    return 78;
  }
  const applied = status.migrations.length - status.pending.length;
  if (!exists) io.out(`No database yet: ${database} does not exist. \`understudy migrate\` (or \`understudy serve\`) creates it.`);
  else if (applied === 0 && status.unknown.length === 0) io.out(`No database yet: ${database} has no Understudy schema. \`understudy migrate\` (or \`understudy serve\`) creates it.`);
  else io.out(`Migrations of ${database}:`);
  const rows = [
    ...status.migrations.map((migration) => [migration.name, migration.appliedAt === undefined ? 'pending' : 'applied', migration.appliedAt?.toISOString() ?? '-']),
    ...status.unknown.map((migration) => [migration.name, `applied, unknown to ${packageVersion()}`, migration.appliedAt?.toISOString() ?? '-']),
  ];
  io.out(formatTable(['migration', 'state', 'applied at'], rows));
  if (newer !== undefined) {
    io.out(`Newer than this version (${packageVersion()}): ${status.unknown.length} applied migration${status.unknown.length === 1 ? ' is' : 's are'} unknown to it.`);
    io.err(`understudy: ${printableLines(newer.message)}`);
    return 78;
  }
  if (status.pending.length === 0) io.out(`Up to date: all ${status.migrations.length} migrations of version ${packageVersion()} are applied.`);
  else io.out(`${applied} applied, ${status.pending.length} pending: \`understudy migrate\` applies ${status.pending.length === 1 ? 'it' : 'them'}.`);
  return 0;
}

function statusJson(location: StoreLocation, exists: boolean, status: MigrationStatus): unknown {
  return {
    database: databaseJson(location),
    exists,
    version: packageVersion(),
    migrations: [
      ...status.migrations.map((migration) => ({ name: migration.name, state: migration.appliedAt === undefined ? 'pending' : 'applied', applied_at: migration.appliedAt?.toISOString() ?? null })),
      ...status.unknown.map((migration) => ({ name: migration.name, state: 'unknown', applied_at: migration.appliedAt?.toISOString() ?? null })),
    ],
    pending: status.pending,
    unknown: status.unknown.map((migration) => migration.name),
  };
}

async function applyPending(location: StoreLocation, args: MigrateArguments, io: Output): Promise<number> {
  const database = printable(describeDatabase(location));
  // PostgreSQL: a connection without the statement timeout, so waiting for another process's
  // migrations or a long step is not cut short. SQLite: the server's own way of opening the file.
  const applied = await migrateOnce(location.databaseUrl !== undefined ? openPostgresForMigrations(location.databaseUrl) : openSqlite(location.sqliteFile));
  const total = (await knownMigrationNames()).length;
  if (args.json) {
    io.out(printableJson({ database: databaseJson(location), version: packageVersion(), applied, migrations: total }));
    return 0;
  }
  if (applied.length === 0) {
    io.out(`Nothing to apply: ${database} is up to date (all ${total} migrations of version ${packageVersion()} are applied).`);
    return 0;
  }
  io.out(`Applied ${applied.length} migration${applied.length === 1 ? '' : 's'} to ${database}:`);
  for (const name of applied) io.out(`  ${name}`);
  io.out(`Up to date: all ${total} migrations of version ${packageVersion()} are applied.`);
  return 0;
}

function databaseJson(location: StoreLocation): { dialect: 'sqlite' | 'postgres'; location: string } {
  return { dialect: location.databaseUrl === undefined ? 'sqlite' : 'postgres', location: databaseLocationText(location) };
}

/** `printable` line by line: the messages span lines on purpose. */
function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
