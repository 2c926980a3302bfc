import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { digestSecret } from '../../../src/crypto/secret-digest.js';
import { killLeftoverProcesses, printedCredentials, runCliToExit, temporaryDirectory } from './cli-process.js';

const scratch = temporaryDirectory('commands');
afterAll(() => {
  killLeftoverProcesses();
  scratch.remove();
});

describe('understudy init', () => {
  const dataDir = join(scratch.path, 'nested', 'data');

  it('creates the data directory, database and credentials, prints them and exits 0', async () => {
    const result = await runCliToExit(['init'], { UNDERSTUDY_DATA_DIR: dataDir });
    expect(result.code, result.stderr).toBe(0);
    const printed = printedCredentials(result.stdout);
    expect(printed, result.stdout).toBeDefined();
    const { projectId, secret } = printed as { projectId: string; secret: string };
    expect(result.stdout).toContain(`They are also in ${join(dataDir, 'credentials.json')}`);

    expect(statSync(join(dataDir, 'credentials.json')).mode & 0o777).toBe(0o600);
    // The public token is no secret: browsers starting SSO send it (docs/sso.md).
    const publicToken = `public-token-test-${projectId.slice('project-test-'.length)}`;
    expect(JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8'))).toEqual({ project_id: projectId, secret, public_token: publicToken });
    expect(result.stdout).toContain(`public token: ${publicToken}`);
    const db = new Database(join(dataDir, 'understudy.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT project_id, secret_digest FROM projects').all()).toEqual([{ project_id: projectId, secret_digest: digestSecret(secret) }]);
    } finally {
      db.close();
    }
  });

  it('on an initialized directory, names the existing project without the secret and exits 0', async () => {
    const { project_id: projectId, secret } = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { project_id: string; secret: string };
    const result = await runCliToExit(['init'], { UNDERSTUDY_DATA_DIR: dataDir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`Already initialized: project_id ${projectId} (${dataDir}).\n`);
    expect(result.stdout + result.stderr).not.toContain(secret);
  });
});

describe('understudy with invalid configuration', () => {
  it('exits 78 listing every problem in one message, before creating anything', async () => {
    const dataDir = join(scratch.path, 'never-created');
    const result = await runCliToExit(['serve'], { UNDERSTUDY_DATA_DIR: dataDir, UNDERSTUDY_PORT: 'abc', UNDERSTUDY_LOG_LEVEL: 'loud' });
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'Invalid configuration:\n' +
        '  - UNDERSTUDY_PORT must be an integer from 0 to 65535 (got "abc")\n' +
        '  - UNDERSTUDY_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")\n',
    );
    expect(existsSync(dataDir)).toBe(false);
  });

  it('reports config-file and environment problems together for --config', async () => {
    const file = join(scratch.path, 'bad.json');
    writeFileSync(file, JSON.stringify({ port: 99999, tls_cert: '/c.pem', colour: 'blue' }));
    const result = await runCliToExit(['init', '--config', file], { UNDERSTUDY_DATA_DIR: scratch.path, UNDERSTUDY_DATABASE_URL: 'mysql://db' });
    expect(result.code).toBe(78);
    const problems = result.stderr.split('\n').filter((line) => line.startsWith('  - '));
    expect(problems).toEqual([
      `  - config file ${file} has an unknown key "colour"`,
      '  - UNDERSTUDY_PORT must be an integer from 0 to 65535 (got "99999")',
      '  - UNDERSTUDY_DATABASE_URL must be a postgres:// or postgresql:// URL (unset it to use SQLite)',
      '  - UNDERSTUDY_TLS_CERT and UNDERSTUDY_TLS_KEY must be set together',
    ]);
  });

  it('names the removed rate_limit_auth_failures_per_minute key as removed, and ignores its environment variable', async () => {
    const file = join(scratch.path, 'removed.json');
    writeFileSync(file, JSON.stringify({ rate_limit_auth_failures_per_minute: 20 }));
    const refused = await runCliToExit(['init', '--config', file], { UNDERSTUDY_DATA_DIR: join(scratch.path, 'removed-key') });
    expect(refused.code).toBe(78);
    expect(refused.stderr).toMatch(/^Invalid configuration:\n {2}- config file .*removed\.json has the key "rate_limit_auth_failures_per_minute", which no longer exists \(the limit on failed session and impersonation authentications per client address was removed: their tokens cannot be guessed, .*\): delete it\n$/);

    const dataDir = join(scratch.path, 'removed-variable');
    const started = await runCliToExit(['init'], { UNDERSTUDY_DATA_DIR: dataDir, UNDERSTUDY_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '20' });
    expect(started.code, started.stderr).toBe(0);
    expect(started.stderr).toBe('');
    expect(existsSync(join(dataDir, 'credentials.json'))).toBe(true);
  });
});

describe('understudy usage', () => {
  it('prints usage for help and exits 0', async () => {
    const result = await runCliToExit(['help'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: understudy <command>/);
    expect(result.stdout).toContain('serve');
    expect(result.stdout).toContain('init');
  });

  it('refuses an unknown command with exit code 2 and the usage on stderr', async () => {
    const result = await runCliToExit(['serv'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^Unknown command "serv"\.\n\nUsage: understudy/);
  });
});
