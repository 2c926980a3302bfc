import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { B2BClient } from 'stytch';
import { afterAll, describe, expect, it } from 'vitest';
import { createThrowawayPostgresDatabase, POSTGRES_SKIP_REASON, POSTGRES_URL } from '../../support/stores.js';
import { TEST_MASTER_KEY } from '../../support/test-constants.js';
import { killLeftoverProcesses, printedCredentials, runCli, temporaryDirectory } from './cli-process.js';

/**
 * What `understudy serve` leaves in its data directory: nothing another local user can read, and
 * never a project's credentials overwritten by another project's.
 */
const directories: { remove: () => void }[] = [];
afterAll(() => {
  killLeftoverProcesses();
  for (const directory of directories) directory.remove();
});

function dataDirectory(name: string): string {
  const parent = temporaryDirectory(name);
  directories.push(parent);
  return join(parent.path, 'data');
}

async function serveOnce(env: Record<string, string>): Promise<{ url: string; stdout: string; stop: () => Promise<void> }> {
  const cli = runCli(['serve'], { UNDERSTUDY_PORT: '0', UNDERSTUDY_LOG_LEVEL: 'info', ...env });
  const url = await cli.listening();
  return {
    url,
    stdout: cli.stdout(),
    stop: async () => {
      expect(await cli.stop()).toEqual({ code: 0, signal: null });
    },
  };
}

const modeOf = (path: string): number => statSync(path).mode & 0o777;

describe('understudy serve: the data directory', () => {
  it('creates the data directory 0700 and the SQLite files (database, -wal, -shm), key and credentials 0600', async () => {
    const dataDir = dataDirectory('modes');
    const server = await serveOnce({ UNDERSTUDY_DATA_DIR: dataDir });
    try {
      // A write, so the WAL holds something while the server runs.
      const credentials = printedCredentials(server.stdout);
      expect(credentials).toBeDefined();
      const client = new B2BClient({ project_id: credentials?.projectId as string, secret: credentials?.secret as string, env: `${server.url}/` });
      await client.organizations.create({ organization_name: 'Modes', organization_slug: 'modes' });
      expect(modeOf(dataDir)).toBe(0o700);
      const files = readdirSync(dataDir).sort();
      expect(files).toEqual(expect.arrayContaining(['credentials.json', 'master.key', 'understudy.db', 'understudy.db-shm', 'understudy.db-wal']));
      for (const file of files) expect(`${file}: ${modeOf(join(dataDir, file)).toString(8)}`).toBe(`${file}: 600`);
    } finally {
      await server.stop();
    }
  });

  it('tightens database files an older version left readable by everyone', async () => {
    const dataDir = dataDirectory('tighten');
    const first = await serveOnce({ UNDERSTUDY_DATA_DIR: dataDir });
    await first.stop();
    for (const file of readdirSync(dataDir).filter((name) => name.startsWith('understudy.db'))) chmodSync(join(dataDir, file), 0o644);
    const second = await serveOnce({ UNDERSTUDY_DATA_DIR: dataDir });
    try {
      for (const file of readdirSync(dataDir).filter((name) => name.startsWith('understudy.db'))) expect(modeOf(join(dataDir, file))).toBe(0o600);
    } finally {
      await second.stop();
    }
  });

  // Skipped without a PostgreSQL server; the title then says how to provide one.
  it.skipIf(!POSTGRES_URL)(`keeps the SQLite project's credentials.json when the same directory then serves a new PostgreSQL database${POSTGRES_URL ? '' : ` (${POSTGRES_SKIP_REASON})`}`, async () => {
    const dataDir = dataDirectory('switch');
    const sqlite = await serveOnce({ UNDERSTUDY_DATA_DIR: dataDir });
    const sqliteCredentials = printedCredentials(sqlite.stdout);
    await sqlite.stop();
    const saved = readFileSync(join(dataDir, 'credentials.json'), 'utf8');

    const database = await createThrowawayPostgresDatabase();
    try {
      const postgres = await serveOnce({ UNDERSTUDY_DATA_DIR: dataDir, UNDERSTUDY_DATABASE_URL: database.url, UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY });
      const postgresCredentials = printedCredentials(postgres.stdout);
      try {
        expect(postgresCredentials?.projectId).not.toBe(sqliteCredentials?.projectId);
        // The saved file is untouched; the new project's credentials sit beside it, and the banner says so.
        expect(readFileSync(join(dataDir, 'credentials.json'), 'utf8')).toBe(saved);
        const own = join(dataDir, `credentials.${postgresCredentials?.projectId}.json`);
        expect(JSON.parse(readFileSync(own, 'utf8'))).toEqual({
          project_id: postgresCredentials?.projectId,
          secret: postgresCredentials?.secret,
          public_token: postgresCredentials?.projectId.replace(/^project-/, 'public-token-'),
        });
        expect(modeOf(own)).toBe(0o600);
        expect(postgres.stdout).toContain(`They are also in ${own}`);
        expect(postgres.stdout).toContain(`already holds the credentials of another project (${sqliteCredentials?.projectId})`);
        const client = new B2BClient({ project_id: postgresCredentials?.projectId as string, secret: postgresCredentials?.secret as string, env: `${postgres.url}/` });
        expect((await client.organizations.search({})).status_code).toBe(200);
      } finally {
        await postgres.stop();
      }
    } finally {
      await database.drop();
    }

    // The SQLite project still works with the credentials saved on its first start.
    const again = await serveOnce({ UNDERSTUDY_DATA_DIR: dataDir });
    try {
      const stored = JSON.parse(saved) as { project_id: string; secret: string };
      const client = new B2BClient({ project_id: stored.project_id, secret: stored.secret, env: `${again.url}/` });
      expect((await client.organizations.search({})).status_code).toBe(200);
    } finally {
      await again.stop();
    }
  });

  it('leaves a data directory that already exists with the mode its owner gave it', async () => {
    const parent = temporaryDirectory('existing');
    directories.push(parent);
    const dataDir = join(parent.path, 'shared');
    mkdirSync(dataDir, { mode: 0o750 });
    chmodSync(dataDir, 0o750);
    writeFileSync(join(dataDir, 'README'), 'kept');
    const server = await serveOnce({ UNDERSTUDY_DATA_DIR: dataDir });
    try {
      expect(modeOf(dataDir)).toBe(0o750);
      expect(modeOf(join(dataDir, 'understudy.db'))).toBe(0o600);
    } finally {
      await server.stop();
    }
  });
});
