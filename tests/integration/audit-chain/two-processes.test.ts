import { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPERSONATOR, MINT, REASON } from '../../support/impersonation.js';
import { createThrowawayPostgresDatabase, POSTGRES_SKIP_REASON, POSTGRES_URL } from '../../support/stores.js';
import { TEST_MASTER_KEY, TEST_PROJECT_ID, TEST_PROJECT_SECRET } from '../../support/test-server.js';
import { killLeftoverProcesses, runCli, temporaryDirectory, type CliProcess } from '../cli/cli-process.js';
import { auditCli, chainRows } from './chain-support.js';

/** Mints per server process, sent a few at a time to each, so the two processes append to one chain at the same moments. */
const MINTS_PER_PROCESS = 30;
const IN_FLIGHT = 6;

// Skipped without a PostgreSQL server: POSTGRES_SKIP_REASON says how to provide one.
describe.skipIf(!POSTGRES_URL)(`one organization's audit chain written by two server processes on one PostgreSQL (${POSTGRES_URL ? 'UNDERSTUDY_TEST_DATABASE_URL' : POSTGRES_SKIP_REASON})`, () => {
  const scratch = temporaryDirectory('audit-chain-processes');
  let database: { url: string; drop: () => Promise<void> };
  let processes: CliProcess[] = [];
  let urls: string[] = [];

  beforeAll(async () => {
    database = await createThrowawayPostgresDatabase();
    const env = {
      UNDERSTUDY_DATA_DIR: scratch.path,
      UNDERSTUDY_DATABASE_URL: database.url,
      UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY,
      UNDERSTUDY_PORT: '0',
      UNDERSTUDY_PROJECT_ID: TEST_PROJECT_ID,
      UNDERSTUDY_PROJECT_SECRET: TEST_PROJECT_SECRET,
      UNDERSTUDY_LOG_LEVEL: 'info',
      UNDERSTUDY_RATE_LIMITS_ENABLED: 'false',
      UNDERSTUDY_AUDIT_CHAIN_PUBLISH_SECONDS: '0',
    };
    processes = [runCli(['serve'], env), runCli(['serve'], env)];
    urls = await Promise.all(processes.map((cli) => cli.listening()));
  });
  afterAll(async () => {
    await Promise.all(processes.map((cli) => cli.stop()));
    killLeftoverProcesses();
    await database?.drop();
    scratch.remove();
  });

  it('mints racing on both processes leave one contiguous, valid chain with a record for every mint, and no fork', async () => {
    const client = new B2BClient({ project_id: TEST_PROJECT_ID, secret: TEST_PROJECT_SECRET, env: `${urls[0]}/` });
    const { organization } = await client.organizations.create({ organization_name: 'Chained', organization_slug: 'chained' });
    const { member } = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: 'ann@chained.example' });
    const authorization = `Basic ${Buffer.from(`${TEST_PROJECT_ID}:${TEST_PROJECT_SECRET}`).toString('base64')}`;
    const mint = async (url: string): Promise<number> => {
      const response = await fetch(`${url}${MINT}`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ organization_id: organization.organization_id, member_id: member.member_id, impersonator_id: IMPERSONATOR.id, impersonator_email_address: IMPERSONATOR.emailAddress, reason: REASON }),
      });
      await response.arrayBuffer();
      return response.status;
    };
    // Each process gets IN_FLIGHT callers minting one after another: both processes write the chain at once throughout.
    const callers = urls.flatMap((url) =>
      Array.from({ length: IN_FLIGHT }, async () => {
        const statuses: number[] = [];
        for (let index = 0; index < MINTS_PER_PROCESS / IN_FLIGHT; index += 1) statuses.push(await mint(url));
        return statuses;
      }),
    );
    const statuses = (await Promise.all(callers)).flat();
    expect(statuses.filter((status) => status === 200)).toHaveLength(2 * MINTS_PER_PROCESS);

    const server = { dataDir: scratch.path, databaseUrl: database.url };
    const rows = await chainRows(server, organization.organization_id);
    expect(rows.map((row) => row.chain_seq)).toEqual(Array.from({ length: 2 * MINTS_PER_PROCESS }, (_, index) => index + 1));
    expect(new Set(rows.map((row) => row.event_id)).size).toBe(2 * MINTS_PER_PROCESS);

    const verified = await auditCli(server, ['verify', '--organization', organization.organization_id, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      valid: true,
      checked_records: 2 * MINTS_PER_PROCESS,
      chains: [{ chain_id: organization.organization_id, checked_records: 2 * MINTS_PER_PROCESS, head: { seq: 2 * MINTS_PER_PROCESS, hash: rows[rows.length - 1]?.hash } }],
    });
  });
});
