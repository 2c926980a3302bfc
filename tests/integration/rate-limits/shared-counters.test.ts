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
  expectError,
  expectTooManyRequests,
  repeat,
  startNextWindow,
  unknownToken,
} from './rate-limit-support.js';

// Skipped without a PostgreSQL server: POSTGRES_SKIP_REASON says how to provide one.
describe.skipIf(!POSTGRES_URL)(`rate limits shared by two servers on one PostgreSQL (${POSTGRES_URL ? 'UNDERSTUDY_TEST_DATABASE_URL' : POSTGRES_SKIP_REASON})`, () => {
  const clock = new ManualClock('2026-03-01T12:00:15Z');
  let database: { url: string; drop: () => Promise<void> };
  let servers: [TestServer, TestServer];
  let sessionToken: string;

  beforeAll(async () => {
    database = await createThrowawayPostgresDatabase();
    // Same project, secret and master key; separate processes' worth of pools, caches and limiter memory.
    const [a, b] = await Promise.all([0, 1].map(() => startTestServer({ clock, config: { ...DEFAULT_RATE_LIMITS, databaseUrl: database.url } })));
    servers = [a as TestServer, b as TestServer];
    const { member } = await createImpersonationCast(servers[0].client);
    sessionToken = (await startTestSession(servers[0], { organizationId: member.organization_id, memberId: member.member_id, durationMinutes: 24 * 60 })).sessionToken;
  });
  afterAll(async () => {
    await Promise.all((servers ?? []).map((server) => server.stop()));
    await database?.drop();
  });
  beforeEach(() => startNextWindow(clock));

  const authenticate = (server: TestServer, address: string, token: string) => callerAt(server, address)(AUTHENTICATE_SESSION, { session_token: token });

  it('refuses an address after 20 failures in total, split over both servers, on either server', async () => {
    const failures = await repeat(20, (index) => authenticate(servers[index % 2] as TestServer, '203.0.113.50', unknownToken()));
    for (const answer of failures) expectError(answer, 404, 'session_not_found');
    expectTooManyRequests(await authenticate(servers[0], '203.0.113.50', sessionToken), { retryAfter: 45 });
    expectTooManyRequests(await authenticate(servers[1], '203.0.113.50', sessionToken), { retryAfter: 45 });
    expect((await authenticate(servers[1], '198.51.100.50', sessionToken)).status).toBe(200);
  });

  it('refuses the next failure on a server that saw none of the 20, and the address from then on', async () => {
    await repeat(20, () => authenticate(servers[0], '203.0.113.51', unknownToken()));
    expectTooManyRequests(await authenticate(servers[1], '203.0.113.51', unknownToken()), { retryAfter: 45 });
    expectTooManyRequests(await authenticate(servers[1], '203.0.113.51', sessionToken), { retryAfter: 45 });
  });

  it('counts impersonation redemption failures on both servers into one budget', async () => {
    await repeat(20, (index) => callerAt(servers[index % 2] as TestServer, '203.0.113.52')(REDEEM_IMPERSONATION, { impersonation_token: unknownToken() }));
    expectTooManyRequests(await callerAt(servers[1], '203.0.113.52')(REDEEM_IMPERSONATION, { impersonation_token: unknownToken() }), { retryAfter: 45 });
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

  it('hold limit names, client addresses and project endpoints with counts, never a presented token or JWT', async () => {
    const { member } = await createImpersonationCast(server.client);
    const session = await startTestSession(server, { organizationId: member.organization_id, memberId: member.member_id });
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
      { bucket: 'auth_failures', key: '203.0.113.60', count: 3 },
      { bucket: 'mints', key: `${server.projectId} /v1/b2b/impersonation`, count: 1 },
      { bucket: 'searches', key: `${server.projectId} /v1/b2b/organizations/search`, count: 1 },
    ]);
    expect(rows.every((row) => row.window_start === '2026-03-01T12:00:00Z' && row.expires_at === '2026-03-01T12:01:00Z')).toBe(true);
    const stored = JSON.stringify(rows);
    for (const secret of [...presented, session.sessionToken, session.sessionJwt, String(minted.body.impersonation_token)]) {
      expect(stored).not.toContain(secret.slice(0, 12));
    }
  });

  it('prunes the counters of ended windows when a new window is counted', async () => {
    const target = database ? { databaseUrl: database.url } : { sqliteFile: sqliteFileIn(dataDir) };
    await callerAt(server, '203.0.113.62')(AUTHENTICATE_SESSION, { session_token: unknownToken() });
    expect((await counterRows(target)).map((row) => row.key)).toContain('203.0.113.62');
    // A second server on the same database, whose clock is two minutes later.
    const clock = new ManualClock('2026-03-01T12:02:30Z');
    const later = await startTestServer({ clock, config: { ...DEFAULT_RATE_LIMITS, dataDir, ...(database && { databaseUrl: database.url }) } });
    try {
      await callerAt(later, '203.0.113.61')(AUTHENTICATE_SESSION, { session_token: unknownToken() });
      const rows = await counterRows(target);
      expect(rows.map((row) => ({ key: row.key, window_start: row.window_start }))).toEqual([{ key: '203.0.113.61', window_start: '2026-03-01T12:02:00Z' }]);
    } finally {
      await later.stop();
    }
  });
});
