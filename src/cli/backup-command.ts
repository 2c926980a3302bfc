import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { MASTER_KEY_FILE } from '../crypto/keys/master-key.js';
import { CREDENTIALS_FILE } from '../main.js';
import { cryptoRandom } from '../platform/random.js';
import { postgresUrlWithoutPassword } from '../storage/database-location.js';
import { sqliteFileIn } from '../storage/open-store.js';
import { type Output, parsedOrUsage, printable } from './cli-support.js';
import { UsageError } from './keys-command.js';

/** `understudy backup`: a consistent copy of the SQLite database, taken while the server runs (docs/backup.md). */
export const BACKUP_USAGE = `Usage: understudy backup <file> [--force] [--config <file>]

  Copies the SQLite database (<data dir>/understudy.db) to <file> with SQLite's online backup,
  while the server keeps running and writing: the copy is the database as it was at one moment,
  every write committed before then included. It is written beside <file> first and renamed into
  place once complete and checked (PRAGMA integrity_check), readable only by you (mode 0600).

  --force   Replace <file> if it exists (otherwise an existing file is never overwritten).
            Never the database, its journals, master.key or a credentials file, by any path.

The master key (UNDERSTUDY_MASTER_KEY, or master.key in the data directory) and credentials.json
are not inside the database: back them up separately; the command says where they are.
On PostgreSQL, use pg_dump: the command prints the one to run.

Exit codes: 0 copied and checked, 1 the copy failed or did not check out (or <file> exists),
2 bad arguments, a <file> --force never replaces, or a PostgreSQL database, 78 a configuration
problem. See docs/backup.md.`;

export interface BackupArguments {
  readonly help: boolean;
  readonly config: string | undefined;
  readonly destination: string;
  readonly force: boolean;
}

/** Checks the arguments before anything is opened; `argv` starts with `backup`. */
export function parseBackupArguments(argv: readonly string[]): BackupArguments {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' }, force: { type: 'boolean' } },
  });
  const help = values.help === true;
  const destination = positionals[1] ?? '';
  if (!help && destination.trim() === '') throw new UsageError('Missing <file>: where to write the copy of the database.');
  if (positionals.length > 2) throw new UsageError(`Unexpected argument "${positionals[2]}".`);
  return { help, config: values.config, destination, force: values.force === true };
}

export async function runBackupCli(argv: readonly string[], io: Output): Promise<number> {
  const parsed = parsedOrUsage(() => parseBackupArguments(argv), BACKUP_USAGE, io);
  if ('exitCode' in parsed) return parsed.exitCode;
  const args = parsed.args;
  if (args.help) {
    io.out(BACKUP_USAGE);
    return 0;
  }
  const config = loadConfig({ configFile: args.config });
  const destination = resolve(args.destination);
  if (config.databaseUrl !== undefined) {
    io.err(postgresRefusal(config.databaseUrl, destination));
    return 2;
  }
  const source = resolve(sqliteFileIn(config.dataDir));
  if (!existsSync(source)) {
    io.err(`understudy: there is no database at ${printable(source)} to back up (is UNDERSTUDY_DATA_DIR right?).`);
    return 1;
  }
  const protectedFile = protectedFileAt(destination, source, resolve(config.dataDir));
  if (protectedFile !== undefined) {
    io.err(`understudy: ${printable(destination)} is ${protectedFile}; give another file (--force never replaces it).`);
    return 2;
  }
  if (existsSync(destination) && !args.force) {
    io.err(`understudy: ${printable(destination)} exists; it was left as it is (--force replaces it).`);
    return 1;
  }
  if (!existsSync(dirname(destination))) {
    io.err(`understudy: the directory ${printable(dirname(destination))} does not exist.`);
    return 1;
  }

  const started = performance.now();
  // Beside the destination, so the final rename stays within one file system and is atomic.
  const temporary = join(dirname(destination), `.${basename(destination)}.${cryptoRandom.bytes(6).toString('hex')}.partial`);
  try {
    // Created 0600 before SQLite writes a byte into it: the copy holds what the database holds.
    closeSync(openSync(temporary, 'wx', 0o600));
    await copyDatabase(source, temporary);
    const checked = checkCopy(temporary);
    if (checked.problems.length > 0) {
      io.err(`understudy: the copy failed PRAGMA integrity_check, so it was removed:\n${checked.problems.map((problem) => `  ${printable(problem)}`).join('\n')}`);
      removeCopy(temporary);
      return 1;
    }
    chmodSync(temporary, 0o600);
    syncFile(temporary);
    if (!moveIntoPlace(temporary, destination, args.force)) {
      io.err(`understudy: ${printable(destination)} appeared while the copy was made; it was left as it is (--force replaces it).`);
      removeCopy(temporary);
      return 1;
    }
    syncFile(dirname(destination));
    const milliseconds = performance.now() - started;
    const took = milliseconds < 1000 ? `${Math.round(milliseconds)} ms` : `${(milliseconds / 1000).toFixed(1)} s`;
    io.out(`Backed up ${printable(source)} to ${printable(destination)} in ${took}: ${formatSize(checked.bytes)}, ${checked.pageCount} pages of ${checked.pageSize} bytes.`);
    io.out('PRAGMA integrity_check: ok');
    for (const line of separateSecrets(config)) io.out(line);
    return 0;
  } catch (error) {
    removeCopy(temporary);
    io.err(`understudy: the backup failed: ${printable((error as Error).message)}`);
    return 1;
  }
}

/**
 * SQLite's online backup from a read-only connection of its own. The pages are copied in one
 * step, which reads one snapshot of the database (WAL lets the server go on writing meanwhile);
 * copied in small steps, each write by the server would restart the copy, which under steady
 * load might never finish.
 */
async function copyDatabase(source: string, temporary: string): Promise<void> {
  const connection = new SQLite(source, { readonly: true, fileMustExist: true });
  try {
    connection.pragma('busy_timeout = 5000');
    await connection.backup(temporary, { progress: () => Number.MAX_SAFE_INTEGER });
  } finally {
    connection.close();
  }
}

/**
 * Opens the copy as a database of its own: switched to a rollback journal, so it is one
 * self-contained file (the server turns WAL on again when it opens a restored copy), then checked.
 */
function checkCopy(file: string): { problems: string[]; pageCount: number; pageSize: number; bytes: number } {
  const copy = new SQLite(file, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    const rows = copy.pragma('integrity_check') as { integrity_check: string }[];
    const problems = rows.map((row) => row.integrity_check).filter((result) => result !== 'ok');
    const pageCount = Number(copy.pragma('page_count', { simple: true }));
    const pageSize = Number(copy.pragma('page_size', { simple: true }));
    copy.close();
    return { problems, pageCount, pageSize, bytes: statSync(file).size };
  } catch (error) {
    if (copy.open) copy.close();
    throw error;
  }
}

/**
 * What `destination` would overwrite among the files the server needs: the database and its
 * journals, the master key, the credentials. Compared by identity, not by name, so no other path
 * to them gets through (a symbolic link to the data directory, a bind mount, a hard link): an
 * existing destination by device and inode; one that does not exist yet by the device and inode
 * of its directory and by its name. Undefined when it is none of them.
 */
function protectedFileAt(destination: string, source: string, dataDir: string): string | undefined {
  const named: [file: string, what: string][] = [
    [source, 'the database itself'],
    [`${source}-wal`, "the database's write-ahead log"],
    [`${source}-shm`, "the database's shared-memory file"],
    [`${source}-journal`, "the database's rollback journal"],
    [join(dataDir, MASTER_KEY_FILE), 'the master key'],
    ...[CREDENTIALS_FILE, ...listCredentialFiles(dataDir)].map((name): [string, string] => [join(dataDir, name), 'a credentials file']),
  ];
  const target = statOrUndefined(destination);
  if (target !== undefined) {
    for (const [file, what] of named) if (sameFile(target, statOrUndefined(file))) return what;
  }
  const directory = statOrUndefined(dirname(destination));
  const name = basename(destination);
  for (const [file, what] of named) {
    if (name === basename(file) && sameFile(directory, statOrUndefined(dirname(file)))) return what;
  }
  // A credentials file the server may write later (credentials.<project_id>.json).
  if (/^credentials\..+\.json$/.test(name) && sameFile(directory, statOrUndefined(dataDir))) return 'a credentials file';
  return undefined;
}

function statOrUndefined(path: string): { dev: number; ino: number } | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function sameFile(one: { dev: number; ino: number } | undefined, other: { dev: number; ino: number } | undefined): boolean {
  return one !== undefined && other !== undefined && one.dev === other.dev && one.ino === other.ino;
}

/** Renames the finished copy into place; without `force`, only if nothing is there (false otherwise). */
function moveIntoPlace(temporary: string, destination: string, force: boolean): boolean {
  if (force) {
    renameSync(temporary, destination);
    return true;
  }
  try {
    // A hard link fails when the destination exists, with no moment at which it could be clobbered.
    linkSync(temporary, destination);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links: checked, then renamed.
    if (existsSync(destination)) return false;
    renameSync(temporary, destination);
    return true;
  }
  unlinkSync(temporary);
  return true;
}

function syncFile(path: string): void {
  const descriptor = openSync(path, 'r');
  try {
    fsyncSync(descriptor);
  } catch {
    // Some file systems refuse fsync on a directory; the rename is done either way.
  } finally {
    closeSync(descriptor);
  }
}

function removeCopy(temporary: string): void {
  for (const file of [temporary, `${temporary}-journal`, `${temporary}-wal`, `${temporary}-shm`]) rmSync(file, { force: true });
}

/** Where the master key and the credentials live: neither is inside the database. */
function separateSecrets(config: Config): string[] {
  const dataDir = resolve(config.dataDir);
  const keyFile = join(dataDir, MASTER_KEY_FILE);
  const masterKey =
    config.masterKey !== undefined
      ? `UNDERSTUDY_MASTER_KEY (given by the environment or the config file${existsSync(keyFile) ? `; ${keyFile} is not used while it is set` : ''})`
      : existsSync(keyFile)
        ? keyFile
        : `none yet (no UNDERSTUDY_MASTER_KEY and no ${keyFile}: the server creates the file at its first start)`;
  const credentials = [CREDENTIALS_FILE, ...listCredentialFiles(dataDir)].map((name) => join(dataDir, name)).filter((file, index, all) => all.indexOf(file) === index && existsSync(file));
  return [
    'Not in the copy, so keep them beside it (docs/backup.md):',
    `  master key:  ${printable(masterKey)}`,
    '               without it the copy\'s signing keys, TOTP secrets, recovery codes and webhook secrets cannot be decrypted',
    `  credentials: ${credentials.length === 0 ? `none in ${printable(dataDir)} (the project secret is given by configuration, or was not kept)` : credentials.map(printable).join(', ')}`,
    '               the database holds only a digest of the project secret',
  ];
}

/** `credentials.<project_id>.json` files, which a second project in the same directory gets (src/main.ts). */
function listCredentialFiles(dataDir: string): string[] {
  try {
    return readdirSync(dataDir).filter((name) => /^credentials\.project-[a-z]+-[0-9a-f-]+\.json$/.test(name));
  } catch {
    return [];
  }
}

function formatSize(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** The pg_dump command for this database, without its password. */
function postgresRefusal(databaseUrl: string, destination: string): string {
  const url = postgresUrlWithoutPassword(databaseUrl);
  const command = `pg_dump --format=custom --file=${shellQuoted(destination)} --dbname=${url === undefined ? '"$UNDERSTUDY_DATABASE_URL"' : shellQuoted(url)}`;
  return [
    'understudy: `understudy backup` copies the SQLite database; this configuration uses PostgreSQL. Back it up with pg_dump',
    '(the password is left out: pg_dump reads it from PGPASSWORD or ~/.pgpass):',
    '',
    `  ${printable(command)}`,
    '',
    'Restore it with pg_restore (docs/backup.md). The master key (UNDERSTUDY_MASTER_KEY) is not in the database: keep it separately.',
  ].join('\n');
}

/** Single-quoted for a POSIX shell. */
function shellQuoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
