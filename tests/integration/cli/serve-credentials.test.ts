import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { B2BClient } from 'stytch';
import { afterAll, describe, expect, it } from 'vitest';
import { digestSecret } from '../../../src/crypto/secret-digest.js';
import { killLeftoverProcesses, logLines, printedCredentials, runCli, temporaryDirectory } from './cli-process.js';

/**
 * `understudy serve` on an empty data directory, then again on the same one: the generated
 * credentials are printed exactly once, kept only as a digest, never logged, and keep working.
 */
const dataDir = temporaryDirectory('serve');
afterAll(() => {
  killLeftoverProcesses();
  dataDir.remove();
});

const env = { UNDERSTUDY_DATA_DIR: dataDir.path, UNDERSTUDY_PORT: '0' };

describe('understudy serve: generated project credentials', () => {
  let credentials: { projectId: string; secret: string };
  let organizationId: string;
  const outputs: string[] = [];

  it('prints a new project id and secret on the first start and writes credentials.json (0600)', async () => {
    const cli = runCli(['serve'], { ...env, UNDERSTUDY_LOG_LEVEL: 'info' });
    try {
      const url = await cli.listening();
      const printed = printedCredentials(cli.stdout());
      expect(printed, cli.stdout()).toBeDefined();
      credentials = printed as { projectId: string; secret: string };
      expect(credentials.projectId).toMatch(/^project-test-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(credentials.secret).toMatch(/^secret-test-[A-Za-z0-9_-]{40}$/);
      expect(cli.stdout().split(credentials.secret)).toHaveLength(2);

      const file = join(dataDir.path, 'credentials.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
        project_id: credentials.projectId,
        secret: credentials.secret,
        public_token: credentials.projectId.replace(/^project-/, 'public-token-'),
      });

      const client = new B2BClient({ project_id: credentials.projectId, secret: credentials.secret, env: `${url}/` });
      const created = await client.organizations.create({ organization_name: 'Acme', organization_slug: 'acme' });
      expect(created.status_code).toBe(200);
      expect(created.organization.organization_slug).toBe('acme');
      organizationId = created.organization.organization_id;

      const wrong = new B2BClient({ project_id: credentials.projectId, secret: 'secret-test-not-the-right-one-at-all', env: `${url}/` });
      await expect(wrong.organizations.get({ organization_id: organizationId })).rejects.toMatchObject({ status_code: 401 });
    } finally {
      expect(await cli.stop()).toEqual({ code: 0, signal: null });
      outputs.push(cli.stdout(), cli.stderr());
    }
  });

  it('does not print the secret on a second start, and the same credentials still work', async () => {
    const cli = runCli(['serve'], { ...env, UNDERSTUDY_LOG_LEVEL: 'trace' });
    try {
      const url = await cli.listening();
      expect(printedCredentials(cli.stdout())).toBeUndefined();
      expect(cli.stdout()).not.toContain('Created a new Understudy test project');
      const listening = logLines(cli.stdout()).find((line) => line.msg === 'understudy is listening');
      expect(listening?.project_id).toBe(credentials.projectId);

      const client = new B2BClient({ project_id: credentials.projectId, secret: credentials.secret, env: `${url}/` });
      const fetched = await client.organizations.get({ organization_id: organizationId });
      expect(fetched.organization.organization_name).toBe('Acme');
    } finally {
      expect(await cli.stop()).toEqual({ code: 0, signal: null });
      outputs.push(cli.stdout(), cli.stderr());
    }
  });

  it('stores only a digest of the secret in the database', () => {
    const db = new Database(join(dataDir.path, 'understudy.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT project_id, secret_digest FROM projects').all() as { project_id: string; secret_digest: string }[];
      expect(rows).toEqual([{ project_id: credentials.projectId, secret_digest: digestSecret(credentials.secret) }]);
      expect(rows[0]?.secret_digest).not.toBe(credentials.secret);
    } finally {
      db.close();
    }
    for (const name of readdirSync(dataDir.path).filter((file) => file.startsWith('understudy.db'))) {
      const bytes = readFileSync(join(dataDir.path, name));
      expect(bytes.includes(credentials.secret), `${name} contains the secret`).toBe(false);
    }
  });

  it('never writes the secret or the Authorization header to the logs', () => {
    expect(outputs).toHaveLength(4);
    const [firstStdout = '', ...rest] = outputs;
    // The banner is the one place the secret may appear; everything after it is log output.
    const bannerEnd = firstStdout.indexOf('The secret is not shown again.');
    expect(bannerEnd).toBeGreaterThan(0);
    const logs = [firstStdout.slice(bannerEnd), ...rest].join('\n');
    const basic = Buffer.from(`${credentials.projectId}:${credentials.secret}`).toString('base64');
    expect(logLines(logs).length).toBeGreaterThan(4);
    expect(logs).toContain('incoming request');
    expect(logs).not.toContain(credentials.secret);
    expect(logs).not.toContain(basic);
    expect(logs).not.toContain('secret-test-not-the-right-one-at-all');
    expect(logs).not.toMatch(/basic [A-Za-z0-9+/=]{20,}/i);
  });
});
