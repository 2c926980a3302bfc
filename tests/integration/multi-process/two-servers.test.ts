import { decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, toTimestamp } from '../../../src/platform/clock.js';
import { runCliToExit, temporaryDirectory } from '../cli/cli-process.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { startTestSession } from '../../support/sessions.js';
import { createThrowawayPostgresDatabase, POSTGRES_SKIP_REASON, POSTGRES_URL } from '../../support/stores.js';
import { startTestServer, TEST_MASTER_KEY, TEST_PROJECT_ID, TEST_PROJECT_SECRET, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/**
 * Two Understudy servers on one PostgreSQL database, as behind a load balancer: same project, same
 * master key, separate connection pools, key caches and clocks. Each server has its own clock so
 * one can be moved past its 15-second key reload while the other's cache stays as it was.
 */
function kidOf(jwt: string): string {
  return String(decodeProtectedHeader(jwt).kid);
}

async function countSigningKeys(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>('SELECT count(*) AS count FROM signing_keys');
    return Number(rows[0]?.count);
  } finally {
    await client.end();
  }
}

async function publishedKids(server: TestServer): Promise<string[]> {
  const response = await fetch(`${server.baseUrl}/v1/b2b/sessions/jwks/${server.projectId}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid).sort();
}

// Skipped without a PostgreSQL server: POSTGRES_SKIP_REASON says how to provide one.
describe.skipIf(!POSTGRES_URL)(`two servers on one PostgreSQL (${POSTGRES_URL ? 'UNDERSTUDY_TEST_DATABASE_URL' : POSTGRES_SKIP_REASON})`, () => {
  const scratch = temporaryDirectory('two-servers');
  const clockA = new ManualClock(toTimestamp(new Date()));
  const clockB = new ManualClock(clockA.now());
  let database: { url: string; drop: () => Promise<void> };
  let serverA: TestServer;
  let serverB: TestServer;
  let organizationId: string;
  let memberId: string;

  beforeAll(async () => {
    database = await createThrowawayPostgresDatabase();
    // Both start at the same moment on the empty database: migrations, project and first key race.
    [serverA, serverB] = await Promise.all([
      startTestServer({ clock: clockA, config: { databaseUrl: database.url } }),
      startTestServer({ clock: clockB, config: { databaseUrl: database.url } }),
    ]);
    const suffix = uniqueSuffix();
    const { organization } = await serverA.client.organizations.create({ organization_name: `Shared ${suffix}`, organization_slug: `shared-${suffix}` });
    organizationId = organization.organization_id;
    const { member } = await serverA.client.organizations.members.create({ organization_id: organizationId, email_address: `shared-${suffix}@example.org` });
    memberId = member.member_id;
  });
  afterAll(async () => {
    await serverA?.stop();
    await serverB?.stop();
    await database?.drop();
    scratch.remove();
  });

  it('started together on a fresh database, they create exactly one signing key and publish the same JWKS', async () => {
    expect(await countSigningKeys(database.url)).toBe(1);
    const kids = await publishedKids(serverA);
    expect(kids).toHaveLength(1);
    expect(await publishedKids(serverB)).toEqual(kids);
  });

  it('a session started on A authenticates on B by token and by JWT, and B signs with the same key', async () => {
    const session = await startTestSession(serverA, { organizationId, memberId });
    const byToken = await serverB.client.sessions.authenticate({ session_token: session.sessionToken });
    expect(byToken.member_session.member_session_id).toBe(session.memberSessionId);
    expect(kidOf(byToken.session_jwt)).toBe(kidOf(session.sessionJwt));
    const byJwt = await serverB.client.sessions.authenticate({ session_jwt: session.sessionJwt });
    expect(byJwt.member_session.member_session_id).toBe(session.memberSessionId);
  });

  for (const [revoker, checker] of [
    ['B', 'A'],
    ['A', 'B'],
  ] as const) {
    it(`a session revoked through ${revoker} is refused at once on ${checker}, by token and by JWT`, async () => {
      const servers = { A: () => serverA, B: () => serverB };
      const session = await startTestSession(servers[checker](), { organizationId, memberId });
      await servers[checker]().client.sessions.authenticate({ session_token: session.sessionToken });
      await servers[revoker]().client.sessions.revoke({ member_session_id: session.memberSessionId });
      const notFound = { status: 404, errorType: 'session_not_found' };
      await expectStytchRejection(servers[checker]().client.sessions.authenticate({ session_token: session.sessionToken }), notFound);
      await expectStytchRejection(servers[checker]().client.sessions.authenticate({ session_jwt: session.sessionJwt }), notFound);
    });
  }

  it('after `understudy keys rotate --activation-delay-seconds 0`, a JWT A signs with the new key verifies on B at once', async () => {
    const oldKid = (await publishedKids(serverB))[0];
    const result = await runCliToExit(['keys', 'rotate', '--activation-delay-seconds', '0'], {
      UNDERSTUDY_DATA_DIR: scratch.path,
      UNDERSTUDY_DATABASE_URL: database.url,
      UNDERSTUDY_MASTER_KEY: TEST_MASTER_KEY,
      UNDERSTUDY_PROJECT_ID: TEST_PROJECT_ID,
      UNDERSTUDY_PROJECT_SECRET: TEST_PROJECT_SECRET,
    });
    expect(result.code, result.stderr).toBe(0);
    const newKid = /New key (jwk-test-[0-9a-f-]{36})/.exec(result.stdout)?.[1];
    expect(newKid, result.stdout).toBeDefined();

    // A reaches its periodic reload (every 15 s); B's clock stays put, so its cache still lacks the key.
    clockA.set(new Date(Date.now() + 16_000));
    const session = await startTestSession(serverA, { organizationId, memberId });
    expect(kidOf(session.sessionJwt)).toBe(newKid);
    expect(await publishedKids(serverB), "B's JWKS before it met the new kid").toEqual([oldKid]);

    const verified = await serverB.client.sessions.authenticate({ session_jwt: session.sessionJwt });
    expect(verified.member_session.member_session_id).toBe(session.memberSessionId);
    expect(await publishedKids(serverB), 'the unknown kid made B re-read the keys').toEqual([oldKid, newKid].sort());
    expect(await publishedKids(serverA)).toEqual([oldKid, newKid].sort());
  });
});

describe.skipIf(!POSTGRES_URL)(`first start race on PostgreSQL (${POSTGRES_URL ? 'UNDERSTUDY_TEST_DATABASE_URL' : POSTGRES_SKIP_REASON})`, () => {
  it('three servers starting together on fresh databases end up with one signing key each time', async () => {
    for (let round = 0; round < 2; round += 1) {
      const database = await createThrowawayPostgresDatabase();
      const servers = await Promise.all([1, 2, 3].map(() => startTestServer({ config: { databaseUrl: database.url } })));
      try {
        expect(await countSigningKeys(database.url), `round ${round}`).toBe(1);
        const jwks = await Promise.all(servers.map(publishedKids));
        expect(new Set(jwks.map((kids) => kids.join()))).toHaveProperty('size', 1);
      } finally {
        await Promise.all(servers.map((server) => server.stop()));
        await database.drop();
      }
    }
  });
});
