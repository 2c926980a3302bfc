import SQLite from 'better-sqlite3';
import pg from 'pg';
import { sqliteFileIn } from '../../src/storage/open-store.js';
import type { TestServer } from './test-server.js';

/**
 * Runs one SQL statement on a running test server's database over a second connection, as someone
 * with direct database access would: for data the API cannot write (rows from before a rule, bulk
 * rows past a limit).
 */
export async function executeSql(server: TestServer, statement: string): Promise<void> {
  if (server.databaseUrl !== undefined) {
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
    return;
  }
  const db = new SQLite(sqliteFileIn(server.dataDir), { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.exec(statement);
  } finally {
    db.close();
  }
}

/** `text` as an SQL string literal. */
export function sqlText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** `INSERT … SELECT` source of the numbers 1 to `count` as column `i` (text on PostgreSQL), on either database. */
export function numbersUpTo(server: TestServer, count: number): { readonly from: string; readonly prefix: string; readonly i: string } {
  return server.databaseUrl !== undefined
    ? { prefix: '', from: `from generate_series(1, ${count}) as n(i)`, i: 'n.i::text' }
    : { prefix: `with recursive n(i) as (select 1 union all select i + 1 from n where i < ${count}) `, from: 'from n', i: 'n.i' };
}
