import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import bcrypt from 'bcryptjs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgressReport } from '../../../src/cli/import/progress-report.js';
import { sqliteFileIn } from '../../../src/storage/open-store.js';
import { sqlText } from '../../support/database-access.js';
import { POSTGRES_URL } from '../../support/stores.js';
import { startTestServer, TEST_MASTER_KEY, TEST_PROJECT_ID, TEST_PROJECT_SECRET, type TestServer } from '../../support/test-server.js';
import { killLeftoverProcesses, runCli, runCliToExit, temporaryDirectory } from './cli-process.js';

/**
 * `understudy import members --file <ndjson>` as an operator runs it: a separate process on the
 * database of a running server, its progress on stderr and its summary on stdout; what it imported
 * checked through the official SDK and the stored rows.
 */
const scratch = temporaryDirectory('import');
afterAll(() => {
  killLeftoverProcesses();
  scratch.remove();
});

/** The environment that points the CLI at the test server's database and project. */
function cliEnvironment(server: TestServer): Record<string, string> {
  return {
    UNDERSTUDY_DATA_DIR: server.dataDir,
    ...(server.databaseUrl !== undefined && { UNDERSTUDY_DATABASE_URL: server.databaseUrl }),
    UNDERSTUDY_PROJECT_ID: TEST_PROJECT_ID,
    UNDERSTUDY_PROJECT_SECRET: TEST_PROJECT_SECRET,
    UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY,
  };
}

/** Rows of one query over a second connection to the server's database. */
async function queryRows(server: TestServer, statement: string): Promise<Record<string, unknown>[]> {
  if (server.databaseUrl !== undefined) {
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      return (await client.query(statement)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  }
  const db = new SQLite(sqliteFileIn(server.dataDir), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(statement).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

async function count(server: TestServer, statement: string): Promise<number> {
  const [row] = await queryRows(server, statement);
  return Number(Object.values(row ?? {})[0]);
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

function ndjson(lines: readonly (object | string)[]): string {
  return `${lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n')}\n`;
}

type Counts = { created: number; updated: number; unchanged: number; kept: number; failed: number };

/** The summary's counts: `N created, N updated, N unchanged, N kept, N failed`. */
function summaryCounts(stdout: string): Counts {
  const match = /(\d+) created, (\d+) updated, (\d+) unchanged, (\d+) kept, (\d+) failed/.exec(stdout);
  if (match === null) throw new Error(`no summary in:\n${stdout}`);
  const [created = 0, updated = 0, unchanged = 0, kept = 0, failed = 0] = match.slice(1).map(Number);
  return { created, updated, unchanged, kept, failed };
}

const stores = POSTGRES_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

for (const store of stores) {
  describe(`understudy import members on ${store}`, () => {
    let server: TestServer;
    let env: Record<string, string>;
    let acmeId: string;
    const file = join(scratch.path, `${store}-members.ndjson`);
    const bcryptHash = bcrypt.hashSync('bob-old-password', 4);
    const lines = [
      {
        organization_id: 'acme',
        email_address: 'Ada@Acme.example',
        name: 'Ada Lovelace',
        roles: ['stytch_admin'],
        trusted_metadata: { plan: 'gold' },
        external_id: 'legacy-1',
        hash: md5('salt-aada-old-password'),
        hash_type: 'md_5',
        md_5_config: { prepend_salt: 'salt-a', append_salt: '' },
      },
      // The organization by id below (filled in once it exists), by slug above.
      { organization_id: '<acme id>', email_address: 'bob@acme.example', hash: bcryptHash, hash_type: 'bcrypt' },
      '',
      { organization_id: 'acme', email_address: 'eve@acme.example', hash: 'not-hex', hash_type: 'md_5' },
      { organization_id: 'no-such-organization', email_address: 'mallory@acme.example', hash: md5('x'), hash_type: 'md_5' },
      { organization_id: 'acme', email_address: 'carol@acme.example', name: 'Carol, no password' },
      '{"organization_id": "acme", "email_address": ',
      { organization_id: 'acme', email_address: 'dan@acme.example', roles: ['no-such-role'], hash: md5('d'), hash_type: 'md_5' },
      { organization_id: 'acme', email_address: 'frank@acme.example', hash: md5('f'), hash_type: 'md_5', colour: 'blue' },
    ];

    beforeAll(async () => {
      server = await startTestServer({ store });
      env = cliEnvironment(server);
      const created = await server.client.organizations.create({ organization_name: 'Acme', organization_slug: 'acme' });
      acmeId = created.organization.organization_id;
      writeFileSync(file, ndjson(lines.map((line) => (typeof line === 'object' && line.organization_id === '<acme id>' ? { ...line, organization_id: acmeId } : line))));
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('imports each member with their old hash, reports every bad line with its number and error_type, and exits 1', async () => {
      const result = await runCliToExit(['import', 'members', '--file', file], env);
      expect(result.code, result.stderr).toBe(1);
      expect(summaryCounts(result.stdout)).toEqual({ created: 3, updated: 0, unchanged: 0, kept: 0, failed: 5 });
      expect(result.stdout).toContain(': 9 lines,');
      const reported = result.stderr.split('\n').filter((line) => line.startsWith('line '));
      expect(reported.map((line) => line.split(':').slice(0, 2).join(':'))).toEqual([
        'line 4: invalid_md_5_hash',
        'line 5: organization_not_found',
        'line 7: invalid_json',
        'line 8: invalid_rbac_role_id',
        'line 9: bad_request',
      ]);
      expect(result.stderr).toContain('unknown field "colour"');
      expect(result.stdout + result.stderr).not.toContain(bcryptHash);
      // Done with the file: the next import of it starts from its first line.
      expect(existsSync(`${file}.progress`)).toBe(false);

      const ada = await server.client.organizations.members.get({ organization_id: acmeId, email_address: 'ada@acme.example' });
      expect(ada.member).toMatchObject({
        status: 'active',
        name: 'Ada Lovelace',
        email_address_verified: true,
        trusted_metadata: { plan: 'gold' },
        external_id: 'legacy-1',
      });
      expect(ada.member.roles.map((role) => role.role_id).sort()).toEqual(['stytch_admin', 'stytch_member']);
      expect(ada.member.member_password_id).not.toBe('');
      const carol = await server.client.organizations.members.get({ organization_id: acmeId, email_address: 'carol@acme.example' });
      expect(carol.member).toMatchObject({ status: 'active', name: 'Carol, no password', email_address_verified: true, member_password_id: '' });
      await expect(server.client.organizations.members.get({ organization_id: acmeId, email_address: 'dan@acme.example' })).rejects.toMatchObject({
        error_type: 'member_not_found',
      });

      const hashes = await queryRows(
        server,
        `select m.email_address, p.hash_type, p.hash, p.hash_config from member_passwords p join members m on m.member_id = p.member_id where m.organization_id = ${sqlText(acmeId)} order by m.email_address`,
      );
      expect(hashes.map((row) => ({ ...row, hash_config: row.hash_config === null ? null : JSON.parse(String(row.hash_config)) }))).toEqual([
        {
          email_address: 'ada@acme.example',
          hash_type: 'md_5',
          hash: md5('salt-aada-old-password'),
          hash_config: { type: 'salted_digest', config: { prependSalt: 'salt-a', appendSalt: '' } },
        },
        { email_address: 'bob@acme.example', hash_type: 'bcrypt', hash: bcryptHash, hash_config: null },
      ]);
    });

    it('imported again, changes nothing: every member unchanged, no new rows, no new audit events', async () => {
      const members = await count(server, `select count(*) from members where organization_id = ${sqlText(acmeId)}`);
      const events = await count(server, 'select count(*) from audit_events');
      const result = await runCliToExit(['import', 'members', '--file', file], env);
      expect(result.code, result.stderr).toBe(1);
      expect(summaryCounts(result.stdout)).toEqual({ created: 0, updated: 0, unchanged: 3, kept: 0, failed: 5 });
      expect(await count(server, `select count(*) from members where organization_id = ${sqlText(acmeId)}`)).toBe(members);
      expect(await count(server, 'select count(*) from audit_events')).toBe(events);
    });

    it('members sign in with their old passwords; imported again, a member who signed in since keeps their password, one who did not gets the new hash', async () => {
      const signIn = (email_address: string, password: string) => server.client.passwords.authenticate({ organization_id: acmeId, email_address, password });
      const ada = await signIn('ada@acme.example', 'ada-old-password');
      expect(ada).toMatchObject({ member_authenticated: true, member: { email_address: 'ada@acme.example' } });
      expect(ada.session_token).not.toBe('');
      expect((await signIn('bob@acme.example', 'bob-old-password')).member_authenticated).toBe(true);
      await expect(signIn('bob@acme.example', 'not-his-password')).rejects.toMatchObject({ error_type: 'unauthorized_credentials' });
      await expect(signIn('carol@acme.example', 'anything')).rejects.toMatchObject({ error_type: 'unauthorized_credentials' });
      // The first sign-in replaced each migrated hash with ours.
      expect(await queryRows(server, "select distinct p.hash_type from member_passwords p join members m on m.member_id = p.member_id where m.email_address in ('ada@acme.example', 'bob@acme.example')")).toEqual([
        { hash_type: 'argon_2id' },
      ]);

      // The old system's later export: Ada changed her password there, and Carol got one.
      const later = join(scratch.path, `${store}-later.ndjson`);
      writeFileSync(
        later,
        ndjson([
          { organization_id: 'acme', email_address: 'ada@acme.example', hash: md5('ada-changed-in-old-system'), hash_type: 'md_5' },
          { organization_id: 'acme', email_address: 'carol@acme.example', hash: bcrypt.hashSync('carol-first-password', 4), hash_type: 'bcrypt' },
        ]),
      );
      const result = await runCliToExit(['import', 'members', '--file', later], env);
      expect(result.code, result.stderr).toBe(0);
      expect(summaryCounts(result.stdout)).toEqual({ created: 0, updated: 1, unchanged: 0, kept: 1, failed: 0 });
      expect((await signIn('ada@acme.example', 'ada-old-password')).member_authenticated).toBe(true);
      await expect(signIn('ada@acme.example', 'ada-changed-in-old-system')).rejects.toMatchObject({ error_type: 'unauthorized_credentials' });
      expect((await signIn('carol@acme.example', 'carol-first-password')).member_authenticated).toBe(true);
    });

    it('--strict stops at the first bad line with lines before it imported; fixed, the next run starts at it', async () => {
      const strictFile = join(scratch.path, `${store}-strict.ndjson`);
      const good = (name: string) => ({ organization_id: 'acme', email_address: `${name}@strict.example`, hash: md5(name), hash_type: 'md_5' });
      writeFileSync(strictFile, ndjson([good('s1'), good('s2'), { ...good('s3'), hash: 'bad' }, good('s4')]));
      const stopped = await runCliToExit(['import', 'members', '--file', strictFile, '--strict', '--batch-size', '2'], env);
      expect(stopped.code, stopped.stderr).toBe(1);
      expect(stopped.stderr).toContain('line 3: invalid_md_5_hash');
      expect(stopped.stdout).toContain('Stopped at line 3 (--strict)');
      expect(JSON.parse(readFileSync(`${strictFile}.progress`, 'utf8'))).toMatchObject({ line: 2, counts: { created: 2, failed: 0 } });
      expect(await count(server, "select count(*) from members where email_address like '%@strict.example'")).toBe(2);

      writeFileSync(strictFile, ndjson([good('s1'), good('s2'), good('s3'), good('s4')]));
      const resumed = await runCliToExit(['import', 'members', '--file', strictFile, '--strict'], env);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toContain('Resuming after line 2');
      expect(summaryCounts(resumed.stdout)).toEqual({ created: 4, updated: 0, unchanged: 0, kept: 0, failed: 0 });
      expect(await count(server, "select count(*) from members where email_address like '%@strict.example'")).toBe(4);
      expect(existsSync(`${strictFile}.progress`)).toBe(false);
    });

    it('refuses to resume a file that changed under its checkpoint, and --restart starts over', async () => {
      const edited = join(scratch.path, `${store}-edited.ndjson`);
      const good = (name: string) => ({ organization_id: 'acme', email_address: `${name}@edited.example`, hash: md5(name), hash_type: 'md_5' });
      writeFileSync(edited, ndjson([good('e1'), good('e2'), 'not json', good('e3')]));
      expect((await runCliToExit(['import', 'members', '--file', edited, '--strict', '--batch-size', '1'], env)).code).toBe(1);
      writeFileSync(edited, ndjson([good('x1'), good('e2'), good('e3')]));
      const refused = await runCliToExit(['import', 'members', '--file', edited], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('changed since');
      expect(refused.stderr).toContain('--restart');
      const restarted = await runCliToExit(['import', 'members', '--file', edited, '--restart'], env);
      expect(restarted.code, restarted.stderr).toBe(0);
      expect(summaryCounts(restarted.stdout)).toEqual({ created: 2, updated: 0, unchanged: 1, kept: 0, failed: 0 });
    });
  });
}

describe('understudy import members: how the file is read', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await server.client.organizations.create({ organization_name: 'Bytes', organization_slug: 'bytes' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('takes a byte-order mark, \\r\\n line ends and a last line without one; refuses lines that are not UTF-8 or too long', async () => {
    const line = (name: string) => JSON.stringify({ organization_id: 'bytes', email_address: `${name}@bytes.example`, hash: md5(name), hash_type: 'md_5' });
    const file = join(scratch.path, 'bytes.ndjson');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(`${line('b1')}\r\n`),
        Buffer.from('{"organization_id": "bytes", "email_address": "'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('@bytes.example"}\r\n'),
        Buffer.from(`${JSON.stringify({ organization_id: 'bytes', email_address: 'long@bytes.example', name: 'x'.repeat(70_000) })}\n`),
        Buffer.from(`\r\n${line('b2')}`),
      ]),
    );
    const result = await runCliToExit(['import', 'members', '--file', file], cliEnvironment(server));
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('line 2: invalid_json: The line is not UTF-8 text.');
    expect(result.stderr).toContain('line 3: request_body_too_large');
    expect(result.stdout).toContain(': 5 lines,');
    expect(summaryCounts(result.stdout)).toEqual({ created: 2, updated: 0, unchanged: 0, kept: 0, failed: 2 });
    expect(await queryRows(server, "select email_address from members where email_address like '%@bytes.example' order by email_address")).toEqual([
      { email_address: 'b1@bytes.example' },
      { email_address: 'b2@bytes.example' },
    ]);
  });

  it('refuses wrong arguments (exit 2) and a missing file (exit 1) before opening the database', async () => {
    const env = cliEnvironment(server);
    const [noFile, unknown, missing] = await Promise.all([
      runCliToExit(['import', 'members'], env),
      runCliToExit(['import', 'organizations', '--file', 'x.ndjson'], env),
      runCliToExit(['import', 'members', '--file', join(scratch.path, 'absent.ndjson')], env),
    ]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('--file is required');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('only `import members` exists');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read');
    expect(missing.stdout).toBe('');
  });

  it('reports progress on a terminal as one line rewritten in place, elsewhere as plain lines, at most once a second', () => {
    let now = 0;
    const runs = [true, false].map((terminal) => {
      const written: string[] = [];
      now = 0;
      const report = new ProgressReport({ write: (text) => written.push(text), terminal, now: () => now, firstLine: 0 });
      const counts = { created: 0, updated: 0, unchanged: 0, kept: 0, failed: 0 };
      for (const line of [500, 1000, 1500]) {
        now += 600;
        report.committed(line, { ...counts, created: line });
      }
      report.failed({ number: 1501, code: 'invalid_json', message: 'The line is not valid JSON.' });
      report.finish();
      return written;
    });
    expect(runs[0]).toEqual([
      '\r\x1b[Kimport: line 1000, 1000 created, 0 updated, 0 unchanged, 0 kept, 0 failed, 833 lines/s',
      '\r\x1b[K',
      'line 1501: invalid_json: The line is not valid JSON.\n',
    ]);
    expect(runs[1]).toEqual([
      'import: line 1000, 1000 created, 0 updated, 0 unchanged, 0 kept, 0 failed, 833 lines/s\n',
      'line 1501: invalid_json: The line is not valid JSON.\n',
    ]);
  });
});

describe('understudy import members: 100,000 members on SQLite, killed halfway and resumed', () => {
  const TOTAL = 100_000;
  let server: TestServer;
  const file = join(scratch.path, 'big.ndjson');

  beforeAll(async () => {
    server = await startTestServer();
    await server.client.organizations.create({ organization_name: 'Big', organization_slug: 'big' });
    // md_5 with a per-member salt: cheap to generate, and stored as given (nothing is hashed at import).
    const out = createWriteStream(file);
    for (let i = 1; i <= TOTAL; i += 1) {
      const salt = `s${i}`;
      const line = `${JSON.stringify({ organization_id: 'big', email_address: `member${i}@big.example`, name: `Member ${i}`, hash: md5(`${salt}password-${i}`), hash_type: 'md_5', md_5_config: { prepend_salt: salt } })}\n`;
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('ends with exactly 100,000 members and passwords, no duplicates, progress shown on the way', async () => {
    const env = cliEnvironment(server);
    const first = runCli(['import', 'members', '--file', file], env);
    const progressLine = /^import: line (\d+), /m;
    for (;;) {
      const lines = [...first.stderr().matchAll(/^import: line (\d+), /gm)].map((match) => Number(match[1]));
      if (lines.some((line) => line >= TOTAL * 0.4)) break;
      if (first.child.exitCode !== null) throw new Error(`the import finished before it could be interrupted:\n${first.stdout()}\n${first.stderr()}`);
      await new Promise((wake) => setTimeout(wake, 20));
    }
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(first.stderr()).toMatch(progressLine);
    // Plain lines on a pipe: no carriage returns.
    expect(first.stderr()).not.toContain('\r');
    const checkpoint = JSON.parse(readFileSync(`${file}.progress`, 'utf8')) as { line: number };
    expect(checkpoint.line).toBeGreaterThan(0);
    expect(checkpoint.line).toBeLessThan(TOTAL);
    const committedBefore = await count(server, 'select count(*) from members');
    expect(committedBefore).toBeGreaterThanOrEqual(checkpoint.line);

    const resumed = await runCliToExit(['import', 'members', '--file', file], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`Resuming after line ${checkpoint.line}`);
    expect(resumed.stdout).toContain(`${TOTAL} lines`);
    const counts = summaryCounts(resumed.stdout);
    // A batch committed after the last checkpoint is applied again and finds its members unchanged.
    expect(counts.created + counts.unchanged).toBe(TOTAL);
    expect(counts.unchanged).toBe(committedBefore - checkpoint.line);
    expect(counts).toMatchObject({ updated: 0, kept: 0, failed: 0 });

    expect(await count(server, 'select count(*) from members')).toBe(TOTAL);
    expect(await count(server, 'select count(distinct email_address) from members')).toBe(TOTAL);
    expect(await count(server, "select count(*) from member_passwords where hash_type = 'md_5'")).toBe(TOTAL);
    expect(existsSync(`${file}.progress`)).toBe(false);
    const [last] = await queryRows(server, "select m.name, p.hash, p.hash_config from members m join member_passwords p on p.member_id = m.member_id where m.email_address = 'member100000@big.example'");
    expect(last).toEqual({ name: 'Member 100000', hash: md5('s100000password-100000'), hash_config: JSON.stringify({ type: 'salted_digest', config: { prependSalt: 's100000', appendSalt: '' } }) });
  }, 180_000);
});
