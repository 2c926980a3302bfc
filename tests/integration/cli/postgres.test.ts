import pg from 'pg';
import { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestSecret } from '../../../src/crypto/secret-digest.js';
import { createThrowawayPostgresDatabase, POSTGRES_SKIP_REASON, POSTGRES_URL } from '../../support/stores.js';
import { killLeftoverProcesses, printedCredentials, runCli, runCliToExit, temporaryDirectory } from './cli-process.js';

const PROJECT_ID = 'project-test-11111111-2222-4333-8444-555555555555';
const SECRET = 'secret-test-shared-postgres-0123456789';

// Skipped without a PostgreSQL server: POSTGRES_SKIP_REASON says how to provide one.
/** PostgreSQL requires a master key; any 32 bytes do for a throwaway database. */
const MASTER_KEY = Buffer.alloc(32, 9).toString('base64');

describe.skipIf(!POSTGRES_URL)(`understudy on PostgreSQL (${POSTGRES_URL ? 'UNDERSTUDY_TEST_DATABASE_URL' : POSTGRES_SKIP_REASON})`, () => {
  const scratch = temporaryDirectory('postgres');
  let database: { url: string; drop: () => Promise<void> };

  beforeAll(async () => {
    database = await createThrowawayPostgresDatabase();
  });
  afterAll(async () => {
    killLeftoverProcesses();
    await database?.drop();
    scratch.remove();
  });

  it('init generates credentials once and stores only their digest in PostgreSQL', async () => {
    const env = { UNDERSTUDY_DATA_DIR: scratch.path, UNDERSTUDY_DATABASE_URL: database.url, UNDERSTUDY_MASTER_KEY: MASTER_KEY };
    const first = await runCliToExit(['init'], env);
    expect(first.code, first.stderr).toBe(0);
    const printed = printedCredentials(first.stdout);
    expect(printed, first.stdout).toBeDefined();
    const second = await runCliToExit(['init'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(`Already initialized: project_id ${printed?.projectId} (PostgreSQL).\n`);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT project_id, secret_digest FROM projects');
      expect(rows).toEqual([{ project_id: printed?.projectId, secret_digest: digestSecret(printed?.secret ?? '') }]);
    } finally {
      await client.end();
    }
  });

  it('serves one project from two processes started together with explicit credentials', async () => {
    const env = {
      UNDERSTUDY_DATA_DIR: scratch.path,
      UNDERSTUDY_DATABASE_URL: database.url,
      UNDERSTUDY_MASTER_KEY: MASTER_KEY,
      UNDERSTUDY_PORT: '0',
      UNDERSTUDY_PROJECT_ID: PROJECT_ID,
      UNDERSTUDY_PROJECT_SECRET: SECRET,
    };
    const processes = [runCli(['serve'], env), runCli(['serve'], env)];
    try {
      const [firstUrl, secondUrl] = await Promise.all(processes.map((cli) => cli.listening()));
      const clientOf = (url: string | undefined): B2BClient => new B2BClient({ project_id: PROJECT_ID, secret: SECRET, env: `${url}/` });
      const created = await clientOf(firstUrl).organizations.create({ organization_name: 'Shared', organization_slug: 'shared' });
      const fetched = await clientOf(secondUrl).organizations.get({ organization_id: created.organization.organization_id });
      expect(fetched.organization.organization_slug).toBe('shared');
      for (const cli of processes) expect(printedCredentials(cli.stdout())).toBeUndefined();
    } finally {
      const exits = await Promise.all(processes.map((cli) => cli.stop()));
      expect(exits).toEqual([
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
    }
  });
});
