import type { B2BImpersonationAuthenticateResponse, Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeImpersonations, addMember, auditEvents, createImpersonationCast, type ImpersonationCast, mintToken } from '../../support/impersonation.js';
import { expectStytchError } from '../../support/openapi.js';
import { createThrowawayPostgresDatabase, POSTGRES_SKIP_REASON, POSTGRES_URL } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * Single use under contention (docs/impersonation.md, "Redeem"): 32 concurrent redemptions of one
 * token, exactly one wins. On SQLite with one server; on PostgreSQL with two server processes on one
 * database, the calls spread over both, as behind a load balancer. Five tokens per run, so a lucky
 * interleaving cannot pass the test by chance. (One SQLite process tends to run each redemption
 * to completion before reading the next request, better-sqlite3 being synchronous, so it is the
 * PostgreSQL case that truly contends on the conditional UPDATE.)
 */
const CONTENDERS = 32;
const ROUNDS = 5;

/** Fires CONTENDERS redemptions of `token` at once, round-robin over `servers`; checks one winner. */
async function race(servers: readonly TestServer[], token: string): Promise<B2BImpersonationAuthenticateResponse> {
  const serverFor = (index: number): TestServer => servers[index % servers.length] as TestServer;
  // Open CONTENDERS keep-alive connections first (a read-only call), so the redemptions arrive
  // together rather than staggered by TCP handshakes.
  await Promise.all(Array.from({ length: CONTENDERS }, (_, index) => serverFor(index).client.sessions.getJWKS({ project_id: serverFor(index).projectId })));
  const attempts = Array.from({ length: CONTENDERS }, (_, index) => serverFor(index).client.impersonation.authenticate({ impersonation_token: token }));
  const settled = await Promise.allSettled(attempts);
  const won = settled.filter((result) => result.status === 'fulfilled').map((result) => result.value);
  const lost = settled.filter((result) => result.status === 'rejected').map((result) => result.reason as unknown);
  expect(won, 'exactly one redemption succeeds').toHaveLength(1);
  expect(lost).toHaveLength(CONTENDERS - 1);
  for (const error of lost) expectStytchError(error, { status: 401, errorType: 'unable_to_auth_impersonation_token' });
  return won[0] as B2BImpersonationAuthenticateResponse;
}

/** After a race: one impersonated session for the member, on every server, and a trail of 1 win and 31 refusals. */
async function expectOneSession(servers: readonly TestServer[], member: Member, winner: B2BImpersonationAuthenticateResponse): Promise<void> {
  const winnerId = winner.member_session?.member_session_id;
  for (const server of servers) {
    const ledger = await activeImpersonations(server, { member_id: member.member_id });
    expect(ledger.map((session) => session.member_session_id)).toEqual([winnerId]);
    const { member_sessions } = await server.client.sessions.get({ organization_id: member.organization_id, member_id: member.member_id });
    expect(member_sessions.map((session) => session.member_session_id)).toEqual([winnerId]);
    const authenticated = await server.client.sessions.authenticate({ session_token: winner.session_token });
    expect(authenticated.member_session.member_session_id).toBe(winnerId);
  }
  const trail = await auditEvents(servers[0] as TestServer, { member_id: member.member_id });
  const redeemed = trail.filter((event) => event.type === 'impersonation.token_redeemed');
  const refused = trail.filter((event) => event.type === 'impersonation.redemption_refused');
  expect(redeemed.map((event) => event.details.member_session_id)).toEqual([winnerId]);
  expect(refused).toHaveLength(CONTENDERS - 1);
  for (const event of refused) expect(event.details).toMatchObject({ why: 'already_used', error_type: 'unable_to_auth_impersonation_token' });
}

async function runRounds(servers: readonly TestServer[], cast: ImpersonationCast): Promise<void> {
  const minter = servers[0] as TestServer;
  for (let round = 0; round < ROUNDS; round += 1) {
    const member = await addMember(minter.client, cast.organization);
    const minted = await mintToken(minter, { organizationId: member.organization_id, memberId: member.member_id });
    const winner = await race(servers, minted.impersonation_token);
    expect(winner.member_id).toBe(member.member_id);
    await expectOneSession(servers, member, winner);
  }
}

describe('concurrent redemption of one impersonation token (sqlite, one server)', () => {
  let server: TestServer;
  let cast: ImpersonationCast;

  beforeAll(async () => {
    server = await startTestServer({ store: 'sqlite' });
    cast = await createImpersonationCast(server.client);
  });
  afterAll(async () => server?.stop());

  it(`${CONTENDERS} concurrent client.impersonation.authenticate calls: one session, ${CONTENDERS - 1} unable_to_auth_impersonation_token, ${ROUNDS} times`, async () => {
    await runRounds([server], cast);
  });
});

// Skipped without a PostgreSQL server: POSTGRES_SKIP_REASON says how to provide one.
describe.skipIf(!POSTGRES_URL)(`concurrent redemption across two servers on one PostgreSQL (${POSTGRES_URL ? 'UNDERSTUDY_TEST_DATABASE_URL' : POSTGRES_SKIP_REASON})`, () => {
  let database: { url: string; drop: () => Promise<void> };
  let servers: TestServer[];
  let cast: ImpersonationCast;

  beforeAll(async () => {
    database = await createThrowawayPostgresDatabase();
    // Same project id, secret and master key (startTestServer's), separate pools and caches.
    servers = await Promise.all([startTestServer({ config: { databaseUrl: database.url } }), startTestServer({ config: { databaseUrl: database.url } })]);
    cast = await createImpersonationCast((servers[0] as TestServer).client);
  });
  afterAll(async () => {
    await Promise.all((servers ?? []).map((server) => server.stop()));
    await database?.drop();
  });

  it(`${CONTENDERS} concurrent redemptions spread over both servers: one session seen by both, ${ROUNDS} times`, async () => {
    await runRounds(servers, cast);
  });
});
