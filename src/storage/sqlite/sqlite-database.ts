import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { Database } from '../database.js';
import { hotStatementName } from '../sql/hot-statements.js';

/** Distinct statements kept compiled; more than the query layer's fixed shapes, fewer than runaway IN-lists. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * The embedded default. WAL lets readers run beside the writer; busy_timeout makes a second
 * process (for example the CLI while the server runs) wait for the lock instead of failing.
 */
export function openSqlite(filename: string): Kysely<Database> {
  if (filename !== ':memory:') createPrivately(filename);
  const connection = new SQLite(filename);
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = NORMAL');
  connection.pragma('busy_timeout = 5000');
  connection.pragma('foreign_keys = ON');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: new StatementCache(connection, STATEMENT_CACHE_SIZE) }) });
}

/**
 * The database holds password hashes, token digests and the audit trail: only its owner may read
 * it. The directory is created 0700 and the file 0600 before SQLite opens it; SQLite gives the
 * `-wal` and `-shm` files it creates the mode of the database file. Files left 0644 by an older
 * version are tightened too.
 */
function createPrivately(filename: string): void {
  mkdirSync(dirname(filename), { recursive: true, mode: 0o700 });
  if (!existsSync(filename)) closeSync(openSync(filename, 'a', 0o600));
  for (const file of [filename, `${filename}-wal`, `${filename}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

/**
 * Kysely asks the connection to prepare every query it runs, and better-sqlite3 compiles the SQL
 * each time: for the joined session lookup that was more time than running it. Statements are
 * kept by their SQL text (least recently used dropped first). Sharing one is safe: Kysely runs
 * one query at a time on the single SQLite connection, and SQLite recompiles a kept statement by
 * itself after a schema change. Hot statements (src/storage/sql/hot-statements.ts) are kept in raw
 * mode: their rows come back as arrays of column values.
 */
export class StatementCache implements SqliteDatabase {
  readonly #connection: SQLite.Database;
  readonly #statements = new Map<string, SqliteStatement>();
  readonly #capacity: number;

  constructor(connection: SQLite.Database, capacity: number) {
    this.#connection = connection;
    this.#capacity = capacity;
  }

  prepare(sql: string): SqliteStatement {
    const kept = this.#statements.get(sql);
    if (kept !== undefined) {
      this.#statements.delete(sql);
      this.#statements.set(sql, kept);
      return kept;
    }
    const statement = this.#connection.prepare(sql);
    if (hotStatementName(sql) !== undefined) statement.raw(true);
    this.#statements.set(sql, statement);
    if (this.#statements.size > this.#capacity) {
      const oldest = this.#statements.keys().next().value;
      if (oldest !== undefined) this.#statements.delete(oldest);
    }
    return statement;
  }

  close(): void {
    this.#statements.clear();
    this.#connection.close();
  }
}
