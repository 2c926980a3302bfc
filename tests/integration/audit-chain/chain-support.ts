import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { Member } from 'stytch';
import { sqliteFileIn } from '../../../src/storage/open-store.js';
import { addMember, createImpersonationCast, mintToken } from '../../support/impersonation.js';
import { TEST_MASTER_KEY, TEST_PROJECT_ID, TEST_PROJECT_SECRET, type TestServer } from '../../support/test-server.js';
import { runCliToExit } from '../cli/cli-process.js';

/** Reads rows from a running test server's database over a second connection, as someone with database access would. */
export async function querySql<Row>(server: Pick<TestServer, 'dataDir' | 'databaseUrl'>, statement: string): Promise<Row[]> {
  if (server.databaseUrl !== undefined) {
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      return (await client.query(statement)).rows as Row[];
    } finally {
      await client.end();
    }
  }
  const db = new SQLite(sqliteFileIn(server.dataDir), { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.prepare(statement).all() as Row[];
  } finally {
    db.close();
  }
}

/** The environment that points the `understudy` CLI at a running test server's database and project. */
export function cliEnvironment(server: Pick<TestServer, 'dataDir' | 'databaseUrl'>): Record<string, string> {
  return {
    UNDERSTUDY_DATA_DIR: server.dataDir,
    ...(server.databaseUrl !== undefined && { UNDERSTUDY_DATABASE_URL: server.databaseUrl }),
    UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY,
    UNDERSTUDY_PROJECT_ID: TEST_PROJECT_ID,
    UNDERSTUDY_PROJECT_SECRET: TEST_PROJECT_SECRET,
  };
}

/** `understudy audit …` run to its end against the server's database. */
export function auditCli(server: Pick<TestServer, 'dataDir' | 'databaseUrl'>, args: readonly string[]) {
  return runCliToExit(['audit', ...args], cliEnvironment(server));
}

/** An organization whose chain holds `mints` token_minted records, one per mint (creating it and its members chains nothing). */
export async function organizationWithMints(server: TestServer, mints: number): Promise<{ organizationId: string; member: Member }> {
  const cast = await createImpersonationCast(server.client);
  const member = await addMember(server.client, cast.organization);
  for (let index = 0; index < mints; index += 1) await mintToken(server, { organizationId: member.organization_id, memberId: member.member_id, reason: `Ticket ${index}` });
  return { organizationId: member.organization_id, member };
}

export interface ChainRow {
  readonly event_id: string;
  readonly chain_seq: number;
  readonly hash: string;
}

/** The chain's records by seq, as stored. */
export async function chainRows(server: Pick<TestServer, 'dataDir' | 'databaseUrl'>, chainId: string): Promise<ChainRow[]> {
  const rows = await querySql<ChainRow>(server, `select event_id, chain_seq, hash from audit_events where chain_id = '${chainId}' order by chain_seq`);
  return rows.map((row) => ({ ...row, chain_seq: Number(row.chain_seq) }));
}
