import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { impersonate, mintToken } from '../support/impersonation.js';
import { expectStytchError } from '../support/openapi.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { uniqueSuffix } from '../support/wire-formats.js';
import { CLUSTER_SKIP_REASON, startThrowawayCluster, type ThrowawayCluster } from './support/throwaway-cluster.js';

/**
 * Database outage (docs/reliability.md): Understudy runs on a PostgreSQL cluster owned by this
 * test, which stops it the hard way (`pg_ctl stop -m immediate`) under load and later starts it
 * again. While the database is away every call must fail fast with Stytch's 503
 * `server_unavailable` envelope; when it is back, service resumes without restarting Understudy,
 * and nothing it acknowledged is lost.
 */
const FAST_MS = 5_000;
const WRITERS = 4;

interface Timed {
  readonly error: unknown;
  readonly elapsedMs: number;
}

async function timedFailure(call: () => Promise<unknown>): Promise<Timed> {
  const started = performance.now();
  const error = await call().then(
    (value) => new Error(`expected server_unavailable, but the call succeeded: ${JSON.stringify(value)}`),
    (reason: unknown) => reason,
  );
  return { error, elapsedMs: performance.now() - started };
}

// Skipped without PostgreSQL server binaries: CLUSTER_SKIP_REASON says what is missing.
describe.skipIf(CLUSTER_SKIP_REASON !== undefined)(`database outage on a throwaway PostgreSQL cluster (${CLUSTER_SKIP_REASON ?? 'own data directory and port'})`, () => {
  let cluster: ThrowawayCluster;
  let server: TestServer;
  let before: { organizationId: string; memberId: string; sessionToken: string; memberSessionId: string; unredeemedToken: string };
  /** Organizations whose create was answered 200 around the moment the database died. */
  const acknowledged: string[] = [];
  /** Slugs of creates answered 503 while the database was surely down. */
  const refusedWhileDown: string[] = [];

  beforeAll(async () => {
    cluster = await startThrowawayCluster();
    // Rate limits are not under test; the writers below would exceed the per-minute defaults.
    server = await startTestServer({ config: { databaseUrl: cluster.url, rateLimitsEnabled: false } });
  });
  afterAll(async () => {
    await server?.stop();
    await cluster?.destroy();
  });

  it('before the outage: writes are acknowledged and /readyz answers 200', async () => {
    const suffix = uniqueSuffix();
    const { organization } = await server.client.organizations.create({ organization_name: `Outage ${suffix}`, organization_slug: `outage-${suffix}` });
    const { member } = await server.client.organizations.members.create({ organization_id: organization.organization_id, email_address: `ann-${suffix}@outage.example` });
    const { redeemed } = await impersonate(server, member);
    const unredeemed = await mintToken(server, { organizationId: organization.organization_id, memberId: member.member_id });
    before = {
      organizationId: organization.organization_id,
      memberId: member.member_id,
      sessionToken: redeemed.session_token,
      memberSessionId: redeemed.member_session?.member_session_id as string,
      unredeemedToken: unredeemed.impersonation_token,
    };
    const ready = await server.fetch('/readyz');
    expect({ status: ready.status, body: ready.body.status }).toEqual({ status: 200, body: 'ready' });
  });

  it('writes in flight when the cluster dies are each answered 200 or 503 server_unavailable, never 500, and fast', async () => {
    let isDown = false;
    const answers: { status: number; errorType: unknown; elapsedMs: number }[] = [];
    const writer = async (index: number): Promise<void> => {
      // Keep writing until the cluster is down, then once more.
      for (let count = 0; ; count += 1) {
        const wasDown = isDown;
        const slug = `burst-${index}-${count}-${uniqueSuffix()}`;
        const started = performance.now();
        const response = await server.fetch('/v1/b2b/organizations', { method: 'POST', json: { organization_name: slug, organization_slug: slug } });
        answers.push({ status: response.status, errorType: response.body.error_type, elapsedMs: performance.now() - started });
        if (response.status === 200) acknowledged.push((response.body.organization as { organization_id: string }).organization_id);
        if (wasDown) return;
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, index) => writer(index));
    await sleep(150);
    await cluster.stopImmediately();
    isDown = true;
    await Promise.all(writers);
    const refused = answers.filter((answer) => answer.status === 503).length;
    const slowest = Math.round(Math.max(...answers.map((answer) => answer.elapsedMs)));
    process.stdout.write(`[database-outage] in-flight writes: ${answers.length - refused} answered 200, ${refused} answered 503; slowest answer ${slowest} ms\n`);
    const unexpected = answers.filter((answer) => !(answer.status === 200 || (answer.status === 503 && answer.errorType === 'server_unavailable')));
    expect(unexpected, cluster.log()).toEqual([]);
    expect(acknowledged.length, 'some writes succeeded before the stop').toBeGreaterThan(0);
    expect(refused, 'the writes after the stop were refused').toBeGreaterThanOrEqual(WRITERS);
    expect(slowest).toBeLessThan(FAST_MS);
  });

  it(`while the database is down: every API call answers 503 server_unavailable in under ${FAST_MS} ms`, async () => {
    const client = server.client;
    const slug = `down-${uniqueSuffix()}`;
    refusedWhileDown.push(slug);
    const calls: [string, () => Promise<unknown>][] = [
      ['organizations.create', () => client.organizations.create({ organization_name: 'Down', organization_slug: slug })],
      ['organizations.get', () => client.organizations.get({ organization_id: before.organizationId })],
      ['organizations.search', () => client.organizations.search({})],
      ['organizations.members.create', () => client.organizations.members.create({ organization_id: before.organizationId, email_address: `bob-${uniqueSuffix()}@outage.example` })],
      ['sessions.authenticate', () => client.sessions.authenticate({ session_token: before.sessionToken })],
      ['sessions.revoke', () => client.sessions.revoke({ member_session_id: before.memberSessionId })],
      ['impersonation.authenticate', () => client.impersonation.authenticate({ impersonation_token: before.unredeemedToken })],
    ];
    const timings: string[] = [];
    for (const [name, call] of calls) {
      const { error, elapsedMs } = await timedFailure(call);
      expectStytchError(error, { status: 503, errorType: 'server_unavailable' });
      expect(elapsedMs, name).toBeLessThan(FAST_MS);
      timings.push(`${name} ${Math.round(elapsedMs)} ms`);
    }
    process.stdout.write(`[database-outage] while down: ${timings.join(', ')}\n`);
  });

  it('while the database is down: the 503 body is exactly the Stytch envelope and names nothing internal', async () => {
    const port = new URL(cluster.url).port;
    const response = await server.fetch('/v1/b2b/impersonation', {
      method: 'POST',
      json: { organization_id: before.organizationId, member_id: before.memberId, impersonator_id: 'support-1', impersonator_email_address: 'sam@support.example', reason: 'Outage' },
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toEqual({
      status_code: 503,
      request_id: response.headers.get('x-request-id'),
      error_type: 'server_unavailable',
      error_message: 'The service is temporarily unavailable. Please retry the request.',
      error_url: 'https://stytch.com/docs/api-reference/b2b/api/errors/503#server_unavailable',
    });
    expect(JSON.stringify(response.body)).not.toMatch(new RegExp(`ECONN|127\\.0\\.0\\.1|postgres|${port}|terminated|timeout`, 'i'));
  });

  it('while the database is down: the console answers a 503 page, not a 500, and names nothing internal', async () => {
    const port = new URL(cluster.url).port;
    const started = performance.now();
    // A cookie shaped like a console session token must be looked up in the database.
    const response = await fetch(`${server.baseUrl}/console/organizations`, { headers: { cookie: `understudy_console=${'A'.repeat(44)}` }, redirect: 'manual' });
    expect(performance.now() - started).toBeLessThan(FAST_MS);
    const page = await response.text();
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(page).toContain('Temporarily unavailable');
    expect(page).toContain(response.headers.get('x-request-id'));
    expect(page).not.toMatch(new RegExp(`ECONN|127\\.0\\.0\\.1|postgres|${port}|terminated|timeout`, 'i'));
  });

  it('while the database is down: /readyz answers 503 JSON quickly and /healthz still 200', async () => {
    const started = performance.now();
    const ready = await server.fetch('/readyz');
    expect(performance.now() - started).toBeLessThan(FAST_MS);
    expect(ready.status).toBe(503);
    expect(ready.headers.get('content-type')).toMatch(/^application\/json/);
    expect(ready.body).toMatchObject({ status_code: 503, status: 'unavailable', database: 'unreachable' });
    expect((await server.fetch('/healthz')).status).toBe(200);
  });

  it('when the cluster is back: service resumes without restarting Understudy, and nothing acknowledged is lost', async () => {
    await cluster.start();
    const deadline = performance.now() + 15_000;
    while ((await server.fetch('/readyz')).status !== 200) {
      expect(performance.now(), 'readyz recovers within 15 s').toBeLessThan(deadline);
      await sleep(100);
    }
    const client = server.client;
    for (const organizationId of [before.organizationId, ...acknowledged]) {
      expect((await client.organizations.get({ organization_id: organizationId })).organization.organization_id).toBe(organizationId);
    }
    expect((await client.organizations.members.get({ organization_id: before.organizationId, member_id: before.memberId })).member.member_id).toBe(before.memberId);
    // The revoke refused during the outage did not happen; the refused redemption did not use the token.
    expect((await client.sessions.authenticate({ session_token: before.sessionToken })).member_session.member_session_id).toBe(before.memberSessionId);
    expect((await client.impersonation.authenticate({ impersonation_token: before.unredeemedToken })).member_id).toBe(before.memberId);
    for (const slug of refusedWhileDown) {
      expectStytchError(await client.organizations.get({ organization_id: slug }).catch((error: unknown) => error), { status: 404, errorType: 'organization_not_found' });
    }
    const suffix = uniqueSuffix();
    const { organization } = await client.organizations.create({ organization_name: `After ${suffix}`, organization_slug: `after-${suffix}` });
    const { member } = await client.organizations.members.create({ organization_id: organization.organization_id, email_address: `cy-${suffix}@outage.example` });
    const { redeemed } = await impersonate(server, member);
    expect((await client.sessions.authenticate({ session_token: redeemed.session_token })).member.member_id).toBe(member.member_id);
  });
});
