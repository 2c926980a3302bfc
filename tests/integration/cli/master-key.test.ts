import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killLeftoverProcesses, logLines, runCli, runCliToExit, temporaryDirectory } from './cli-process.js';

/** How `understudy serve` finds the key that seals signing keys, and what it says when it cannot. */
const scratch = temporaryDirectory('master-key');
afterAll(() => {
  killLeftoverProcesses();
  scratch.remove();
});

const PROJECT_ID = 'project-test-11111111-2222-4333-8444-555555555555';
const PROJECT = { UNDERSTUDY_PROJECT_ID: PROJECT_ID, UNDERSTUDY_PROJECT_SECRET: 'secret-test-master-key-0123456789' };

/** Starts `serve`, reads the kids of its JWKS, and stops it. */
async function serveAndReadJwks(env: Record<string, string>): Promise<{ kids: string[]; stdout: string }> {
  const cli = runCli(['serve'], { UNDERSTUDY_PORT: '0', ...PROJECT, ...env });
  try {
    const url = await cli.listening();
    const response = await fetch(`${url}/v1/b2b/sessions/jwks/${PROJECT_ID}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { keys: { kid: string }[] };
    return { kids: body.keys.map((key) => key.kid), stdout: cli.stdout() };
  } finally {
    expect(await cli.stop()).toEqual({ code: 0, signal: null });
  }
}

describe('master key on SQLite without UNDERSTUDY_MASTER_KEY', () => {
  const dataDir = join(scratch.path, 'generated');
  const keyFile = join(dataDir, 'master.key');

  it('serve generates <data dir>/master.key readable only by its owner, and warns that it is a development default', async () => {
    const { kids, stdout } = await serveAndReadJwks({ UNDERSTUDY_DATA_DIR: dataDir });
    expect(kids).toHaveLength(1);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64')).toHaveLength(32);
    const warning = logLines(stdout).find((line) => line.level === 40);
    expect(warning).toMatchObject({ msg: expect.stringContaining('set UNDERSTUDY_MASTER_KEY in production'), file: keyFile });
  });

  it('a restart reuses the key file and keeps signing with the same key', async () => {
    const before = readFileSync(keyFile, 'utf8');
    const first = await runCliToExit(['keys', 'list'], { UNDERSTUDY_DATA_DIR: dataDir, ...PROJECT });
    expect(first.code, first.stderr).toBe(0);
    const signingKid = /^signing +(\S+)/m.exec(first.stdout)?.[1];
    expect(signingKid, first.stdout).toBeDefined();

    const { kids } = await serveAndReadJwks({ UNDERSTUDY_DATA_DIR: dataDir });
    expect(kids).toEqual([signingKid]);
    expect(readFileSync(keyFile, 'utf8')).toBe(before);
  });

  it('serve with a different UNDERSTUDY_MASTER_KEY on that data directory exits 78 saying the master key does not match', async () => {
    const result = await runCliToExit(['serve'], {
      UNDERSTUDY_DATA_DIR: dataDir,
      UNDERSTUDY_PORT: '0',
      UNDERSTUDY_MASTER_KEY: Buffer.alloc(32, 3).toString('base64'),
      ...PROJECT,
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/^understudy: the master key does not match the one that encrypted signing key jwk-test-[0-9a-f-]{36}: set UNDERSTUDY_MASTER_KEY/);
    expect(result.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    expect(logLines(result.stdout).map((line) => line.msg)).not.toContain('understudy is listening');
  });
});

describe('master key with PostgreSQL', () => {
  it('serve without UNDERSTUDY_MASTER_KEY exits 78 listing the problem, before connecting or creating anything', async () => {
    const dataDir = join(scratch.path, 'postgres-never-created');
    // Nothing listens on port 1: the configuration is refused before any connection is tried.
    const result = await runCliToExit(['serve'], { UNDERSTUDY_DATA_DIR: dataDir, UNDERSTUDY_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/understudy' });
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'Invalid configuration:\n  - UNDERSTUDY_MASTER_KEY is required with PostgreSQL: every process must encrypt signing keys with the same key\n',
    );
    expect(existsSync(dataDir)).toBe(false);
  });
});
