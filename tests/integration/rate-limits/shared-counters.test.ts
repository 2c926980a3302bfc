import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { sqliteFileIn } from '../../../src/storage/open-store.js';
import { createImpersonationCast, MINT, mintBody } from '../../support/impersonation.js';
import { startTestSession } from '../../support/sessions.js';
import { createThrowawayPostgresDatabase, POSTGRES_SKIP_REASON, POSTGRES_URL, STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import {
  AUTHENTICATE_SESSION,
  DEFAULT_RATE_LIMITS,
  REDEEM_IMPERSONATION,
  SEARCH_ORGANIZATIONS,
  callerAt,
  consoleSignInAt,
  createOperatorOn,
  expectSignInJudged,
  expectSignInRefused,
  expectTooManyRequests,
  repeat,
  startNextWindow,
  unknownToken,
  wrongSignIns,
} from './rate-limit-support.js';

// Skipped without a PostgreSQL server: POSTGRES_SKIP_REASON says how to provide one.
describe.skipIf(!POSTGRES_URL)(`rate limits shared by two servers on one PostgreSQL (${POSTGRES_URL ? 'UNDERSTUDY_TEST_DATABASE_URL' : POSTGRES_SKIP_REASON})`, () => {
  const clock = new ManualClock('2026-03-01T12:00:15Z');
  let database: { url: string; drop: () => Promise<void> };
  let servers: [TestServer, TestServer];
  let operator: { emailAddress: string; password: string };

  beforeAll(async () => {
    database = await createThrowawayPostgresDatabase();
    // Same project, secret and master key; separate processes' worth of pools, caches and limiter memory.
    const [a, b] = await Promise.all([0, 1].map(() => startTestServer({ clock, config: { ...DEFAULT_RATE_LIMITS, databaseUrl: database.url } })));
    servers = [a as TestServer, b as TestServer];
    operator = await createOperatorOn(servers[0]);
  });
  afterAll(async () => {
    await Promise.all((servers ?? []).map((server) => server.stop()));
    await database?.drop();
  });
  beforeEach(() => startNextWindow(clock));

  const rightPassword = (server: TestServer, address: string) => consoleSignInAt(server, address, operator.emailAddress, operator.password);

  it('refuses a client address after 10 console sign-in attempts in total, split over both servers, on either server', async () => {
    for (const answer of await wrongSignIns(servers[0], 5, () => '203.0.113.50')) expectSignInJudged(answer);
    for (const answer of await wrongSignIns(servers[1], 5, () => '203.0.113.50')) expectSignInJudged(answer);
    expectSignInRefused(await rightPassword(servers[0], '203.0.113.50'), { retryAfter: 45 });
    expectSignInRefused(await rightPassword(servers[1], '203.0.113.50'), { retryAfter: 45 });
    // Another client is not affected, on either server.
    expect((await rightPassword(servers[1], '198.51.100.50')).status).toBe(303);
    expect((await rightPassword(servers[0], '198.51.100.50')).status).toBe(303);
  });

  it('refuses the next attempt on a server that saw none of the 10', async () => {
    for (const answer of await wrongSignIns(servers[0], 10, () => '203.0.113.51')) expectSignInJudged(answer);
    expectSignInRefused(await rightPassword(servers[1], '203.0.113.51'), { retryAfter: 45 });
  });

  it('lets exactly 10 of 24 concurrent attempts from one client through, over both servers', async () => {
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, index) => consoleSignInAt(servers[index % 2] as TestServer, '203.0.113.52', `burst-${index}@operators.example`, 'not the password')),
    );
    expect(answers.filter((answer) => answer.status === 401)).toHaveLength(10);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(14);
  });

  it('counts searches on both servers against the one project limit of 100', async () => {
    const searches = await repeat(100, (index) => callerAt(servers[index % 2] as TestServer, '127.0.0.1')(SEARCH_ORGANIZATIONS, {}));
    expect(searches.every((answer) => answer.status === 200)).toBe(true);
    expectTooManyRequests(await callerAt(servers[0], '127.0.0.1')(SEARCH_ORGANIZATIONS, {}), { retryAfter: 45 });
    expectTooManyRequests(await callerAt(servers[1], '127.0.0.1')(SEARCH_ORGANIZATIONS, {}), { retryAfter: 45 });
  });
});

/** Every row of the counter table, read straight from the database the server uses. */
async function counterRows(target: { sqliteFile: string } | { databaseUrl: string }): Promise<Record<string, unknown>[]> {
  const query = 'select * from rate_limit_counters order by bucket, key';
  if ('sqliteFile' in target) {
    const database = new Sqlite(target.sqliteFile, { readonly: true });
    try {
      return database.prepare(query).all() as Record<string, unknown>[];
    } finally {
      database.close();
    }
  }
  const client = new pg.Client({ connectionString: target.databaseUrl });
  await client.connect();
  try {
    return (await client.query(query)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

describe.each(STORES.map((factory) => factory.name))('rate-limit counters in the database (%s)', (store) => {
  let dataDir: string;
  let database: { url: string; drop: () => Promise<void> } | undefined;
  let server: TestServer;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'understudy-rate-limits-'));
    database = store === 'postgres' ? await createThrowawayPostgresDatabase() : undefined;
    server = await startTestServer({ clock: new ManualClock('2026-03-01T12:00:15Z'), config: { ...DEFAULT_RATE_LIMITS, dataDir, ...(database && { databaseUrl: database.url }) } });
  });
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('hold limit names, client addresses and project endpoints with counts, never a token, a password or the email address tried', async () => {
    const { member } = await createImpersonationCast(server.client);
    const session = await startTestSession(server, { organizationId: member.organization_id, memberId: member.member_id });
    const operator = await createOperatorOn(server);
    const wrong = { emailAddress: 'someone-else@operators.example', password: 'a guessed password' };
    expectSignInJudged(await consoleSignInAt(server, '203.0.113.60', wrong.emailAddress, wrong.password));
    expect((await consoleSignInAt(server, '203.0.113.60', operator.emailAddress, operator.password)).status).toBe(303);
    expectSignInJudged(await consoleSignInAt(server, '2001:db8:a:b::7', operator.emailAddress, wrong.password));
    // Session and impersonation authentications, failed or not, count against nothing.
    const presented = [unknownToken(), unknownToken(), `${session.sessionJwt.slice(0, -4)}AAAA`];
    const call = callerAt(server, '203.0.113.60');
    await call(AUTHENTICATE_SESSION, { session_token: presented[0] });
    await call(REDEEM_IMPERSONATION, { impersonation_token: presented[1] });
    await call(AUTHENTICATE_SESSION, { session_jwt: presented[2] });
    await call(AUTHENTICATE_SESSION, { session_token: session.sessionToken });
    await call(SEARCH_ORGANIZATIONS, {});
    const minted = await call(MINT, mintBody({ organizationId: member.organization_id, memberId: member.member_id }));

    const rows = await counterRows(database ? { databaseUrl: database.url } : { sqliteFile: sqliteFileIn(dataDir) });
    expect(rows.map((row) => ({ bucket: row.bucket, key: row.key, count: Number(row.count) }))).toEqual([
      { bucket: 'console_sign_ins', key: '2001:db8:a:b::/64', count: 1 },
      { bucket: 'console_sign_ins', key: '203.0.113.60', count: 2 },
      { bucket: 'mints', key: `${server.projectId} /v1/b2b/impersonation`, count: 1 },
      { bucket: 'searches', key: `${server.projectId} /v1/b2b/organizations/search`, count: 1 },
    ]);
    expect(rows.every((row) => row.window_start === '2026-03-01T12:00:00Z' && row.expires_at === '2026-03-01T12:01:00Z')).toBe(true);
    const stored = JSON.stringify(rows);
    for (const secret of [...presented, session.sessionToken, session.sessionJwt, String(minted.body.impersonation_token)]) {
      expect(stored).not.toContain(secret.slice(0, 12));
    }
    for (const typed of [operator.emailAddress, operator.password, wrong.emailAddress, wrong.password]) expect(stored).not.toContain(typed);
  });

  it('prunes the counters of ended windows when a new window is counted', async () => {
    const target = database ? { databaseUrl: database.url } : { sqliteFile: sqliteFileIn(dataDir) };
    await consoleSignInAt(server, '203.0.113.62', 'nobody@operators.example', 'not the password');
    expect((await counterRows(target)).map((row) => row.key)).toContain('203.0.113.62');
    // A second server on the same database, whose clock is two minutes later.
    const clock = new ManualClock('2026-03-01T12:02:30Z');
    const later = await startTestServer({ clock, config: { ...DEFAULT_RATE_LIMITS, dataDir, ...(database && { databaseUrl: database.url }) } });
    try {
      await consoleSignInAt(later, '203.0.113.61', 'nobody@operators.example', 'not the password');
      const rows = await counterRows(target);
      expect(rows.map((row) => ({ key: row.key, window_start: row.window_start }))).toEqual([{ key: '203.0.113.61', window_start: '2026-03-01T12:02:00Z' }]);
    } finally {
      await later.stop();
    }
  });
});
