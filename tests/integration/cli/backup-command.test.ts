import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { B2BClient } from 'stytch';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TEST_MASTER_KEY } from '../../support/test-constants.js';
import { killLeftoverProcesses, runCli, runCliToExit, temporaryDirectory } from './cli-process.js';

/**
 * `understudy backup` as an operator runs it: beside a server that keeps writing, from another
 * process; the copy checked with better-sqlite3 and served again from a restored data directory.
 */
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});
afterAll(() => killLeftoverProcesses());

function scratchDirectory(): string {
  const scratch = temporaryDirectory('backup');
  cleanups.push(scratch.remove);
  return scratch.path;
}

interface Credentials {
  readonly project_id: string;
  readonly secret: string;
}

function clientFor(url: string, credentials: Credentials): B2BClient {
  return new B2BClient({ project_id: credentials.project_id, secret: credentials.secret, env: `${url}/` });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('understudy backup', () => {
  it('copies the database while the server keeps writing: the copy checks out, holds every write acknowledged before it began, and serves again', async () => {
    const scratch = scratchDirectory();
    const dataDir = join(scratch, 'data');
    // No UNDERSTUDY_MASTER_KEY and no credentials given: the server writes master.key and credentials.json, as on a first `npm start`.
    const server = runCli(['serve'], { UNDERSTUDY_DATA_DIR: dataDir, UNDERSTUDY_PORT: '0', UNDERSTUDY_LOG_LEVEL: 'info' });
    const url = await server.listening();
    const credentials = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as Credentials;
    const client = clientFor(url, credentials);
    const { organization } = await client.organizations.create({ organization_name: 'Backed Up', organization_slug: 'backed-up' });
    const { keys: originalKeys } = await client.sessions.getJWKS({ project_id: credentials.project_id });

    // Four writers creating members back to back until told to stop; each acknowledged write is noted with its time.
    const acknowledged: { memberId: string; emailAddress: string; at: number }[] = [];
    let writing = true;
    const writers = Array.from({ length: 4 }, async (_, writer) => {
      for (let index = 0; writing; index += 1) {
        const emailAddress = `writer${writer}-${index}@load.example`;
        const { member } = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: emailAddress });
        acknowledged.push({ memberId: member.member_id, emailAddress, at: performance.now() });
      }
    });
    try {
      await until(() => acknowledged.length >= 40, '40 members written');
      const destination = join(scratch, 'copy.db');
      const backupStarted = performance.now();
      const acknowledgedBefore = acknowledged.slice();
      const backup = await runCliToExit(['backup', destination], { UNDERSTUDY_DATA_DIR: dataDir });
      const backupEnded = performance.now();
      await until(() => acknowledged.some((write) => write.at > backupEnded), 'a write after the backup');
      writing = false;
      await Promise.all(writers);

      expect(backup.code, backup.stderr).toBe(0);
      // The load really ran while the backup process did.
      expect(acknowledged.filter((write) => write.at > backupStarted && write.at < backupEnded).length).toBeGreaterThan(0);
      expect(backup.stdout).toMatch(/^Backed up .+understudy\.db to .+copy\.db in \d+(\.\d)? m?s: [\d.]+ [KM]iB, \d+ pages of \d+ bytes\.$/m);
      expect(backup.stdout).toContain('PRAGMA integrity_check: ok');
      expect(backup.stdout).toContain(`master key:  ${join(dataDir, 'master.key')}`);
      expect(backup.stdout).toContain(`credentials: ${join(dataDir, 'credentials.json')}`);
      expect(statSync(destination).mode & 0o777).toBe(0o600);
      // Only the copy: no partial file, journal or WAL left beside it.
      expect(readdirSync(scratch).sort()).toEqual(['copy.db', 'data']);

      const copy = new SQLite(destination, { readonly: true, fileMustExist: true });
      let copied: Set<string>;
      try {
        expect(copy.pragma('integrity_check')).toEqual([{ integrity_check: 'ok' }]);
        const rows = copy.prepare('select member_id from members where organization_id = ?').all(organization.organization_id) as { member_id: string }[];
        copied = new Set(rows.map((row) => row.member_id));
      } finally {
        copy.close();
      }
      const missing = acknowledgedBefore.filter((write) => !copied.has(write.memberId));
      expect(missing, `${missing.length} of ${acknowledgedBefore.length} members acknowledged before the backup are missing`).toEqual([]);

      // Restoring: the copy as understudy.db, beside the master key and credentials it needs.
      const restoredDir = join(scratch, 'restored');
      mkdirSync(restoredDir, { mode: 0o700 });
      copyFileSync(destination, join(restoredDir, 'understudy.db'));
      copyFileSync(join(dataDir, 'master.key'), join(restoredDir, 'master.key'));
      copyFileSync(join(dataDir, 'credentials.json'), join(restoredDir, 'credentials.json'));
      const restored = runCli(['serve'], { UNDERSTUDY_DATA_DIR: restoredDir, UNDERSTUDY_PORT: '0', UNDERSTUDY_LOG_LEVEL: 'info' });
      try {
        const restoredClient = clientFor(await restored.listening(), credentials);
        const sample = acknowledgedBefore[acknowledgedBefore.length - 1] as (typeof acknowledgedBefore)[number];
        const { member } = await restoredClient.organizations.members.get({ organization_id: organization.organization_id, member_id: sample.memberId });
        expect(member.email_address).toBe(sample.emailAddress);
        // The signing keys, sealed under master.key, came back: the same public keys.
        expect((await restoredClient.sessions.getJWKS({ project_id: credentials.project_id })).keys).toEqual(originalKeys);
        expect(restored.stdout()).not.toContain('Created a new Understudy test project');
      } finally {
        expect(await restored.stop()).toEqual({ code: 0, signal: null });
      }
    } finally {
      writing = false;
      await Promise.allSettled(writers);
      await server.stop();
    }
  });

  it('never overwrites an existing file unless --force is given', async () => {
    const scratch = scratchDirectory();
    const env = { UNDERSTUDY_DATA_DIR: join(scratch, 'data') };
    expect((await runCliToExit(['migrate'], env)).code).toBe(0);
    const destination = join(scratch, 'existing.db');
    writeFileSync(destination, 'an earlier backup\n');

    const refused = await runCliToExit(['backup', destination], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`understudy: ${destination} exists; it was left as it is (--force replaces it).\n`);
    expect(readFileSync(destination, 'utf8')).toBe('an earlier backup\n');

    const forced = await runCliToExit(['backup', destination, '--force'], env);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(destination).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
    expect(readdirSync(scratch).sort()).toEqual(['data', 'existing.db']);
  });

  it('says so when there is no database to back up, and refuses the database itself as the destination', async () => {
    const scratch = scratchDirectory();
    const dataDir = join(scratch, 'data');
    const none = await runCliToExit(['backup', join(scratch, 'copy.db')], { UNDERSTUDY_DATA_DIR: dataDir });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`there is no database at ${join(dataDir, 'understudy.db')} to back up`);
    expect(existsSync(dataDir)).toBe(false);

    expect((await runCliToExit(['migrate'], { UNDERSTUDY_DATA_DIR: dataDir })).code).toBe(0);
    const itself = await runCliToExit(['backup', join(dataDir, 'understudy.db'), '--force'], { UNDERSTUDY_DATA_DIR: dataDir });
    expect(itself.code).toBe(2);
    expect(itself.stderr).toContain('is the database itself');
  });

  it('refuses, even with --force, to replace the database, its journals, the master key or the credentials by any path to them (exit 2)', async () => {
    const scratch = scratchDirectory();
    const dataDir = join(scratch, 'data');
    const env = { UNDERSTUDY_DATA_DIR: dataDir };
    expect((await runCliToExit(['migrate'], env)).code).toBe(0);
    // The server's files, as a first start leaves them (backup only needs them to exist).
    writeFileSync(join(dataDir, 'master.key'), 'the master key\n', { mode: 0o600 });
    writeFileSync(join(dataDir, 'credentials.json'), '{"project_id":"p"}\n', { mode: 0o600 });
    symlinkSync('data', join(scratch, 'datalink'));
    linkSync(join(dataDir, 'master.key'), join(scratch, 'key-hard-link'));
    const identity = (file: string): string => `${statSync(file).dev}:${statSync(file).ino}`;
    const database = identity(join(dataDir, 'understudy.db'));

    const cases: [destination: string, what: string][] = [
      [join(scratch, 'datalink', 'understudy.db'), 'the database itself'],
      [join(dataDir, 'master.key'), 'the master key'],
      [join(scratch, 'key-hard-link'), 'the master key'],
      [join(scratch, 'datalink', 'credentials.json'), 'a credentials file'],
      [join(scratch, 'datalink', 'credentials.project-test-0b0e7a3c-4f0f-4a46-9d9a-3c1f4c5e6d7e.json'), 'a credentials file'],
    ];
    for (const [destination, what] of cases) {
      const refused = await runCliToExit(['backup', destination, '--force'], env);
      expect(refused.code, `${destination}: ${refused.stderr}`).toBe(2);
      expect(refused.stderr).toBe(`understudy: ${destination} is ${what}; give another file (--force never replaces it).\n`);
    }
    expect(identity(join(dataDir, 'understudy.db'))).toBe(database);
    expect(readFileSync(join(dataDir, 'master.key'), 'utf8')).toBe('the master key\n');
    expect(readFileSync(join(dataDir, 'credentials.json'), 'utf8')).toBe('{"project_id":"p"}\n');
    expect(readdirSync(dataDir).sort()).toEqual(['credentials.json', 'master.key', 'understudy.db']);
    expect(readdirSync(scratch).sort()).toEqual(['data', 'datalink', 'key-hard-link']);

    // Another file in the data directory is a destination like any other.
    const beside = await runCliToExit(['backup', join(scratch, 'datalink', 'copy.db')], env);
    expect(beside.code, beside.stderr).toBe(0);
  });

  it('on PostgreSQL refuses (exit 2) with the pg_dump command to run, which leaves the password out', async () => {
    const scratch = scratchDirectory();
    const password = 'hunter2-do-not-print';
    const result = await runCliToExit(['backup', join(scratch, 'auth.dump')], {
      UNDERSTUDY_DATA_DIR: join(scratch, 'data'),
      // The password in the authority, and again as a parameter (libpq reads both).
      UNDERSTUDY_DATABASE_URL: `postgres://understudy:${password}@db.internal:5432/auth?sslmode=require&password=${password}`,
      UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`  pg_dump --format=custom --file='${join(scratch, 'auth.dump')}' --dbname='postgres://understudy@db.internal:5432/auth?sslmode=require'\n`);
    expect(result.stderr).toContain('PGPASSWORD or ~/.pgpass');
    expect(`${result.stdout}${result.stderr}`).not.toContain(password);
    expect(existsSync(join(scratch, 'auth.dump'))).toBe(false);
  });
});
