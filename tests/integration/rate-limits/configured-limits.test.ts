import type { Member } from 'stytch';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { createImpersonationCast, MINT, mintBody } from '../../support/impersonation.js';
import { startTestSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { AUTHENTICATE_SESSION, DEFAULT_RATE_LIMITS, SEARCH_ORGANIZATIONS, callerAt, expectError, expectTooManyRequests, repeat } from './rate-limit-support.js';

/** A server with these settings, an organization, a member and a week-long session of theirs. */
async function serverWith(store: 'sqlite' | 'postgres', config: Partial<Config>) {
  const server = await startTestServer({ store, clock: new ManualClock('2026-03-01T12:00:15Z'), config: { ...DEFAULT_RATE_LIMITS, ...config } });
  const member: Member = (await createImpersonationCast(server.client)).member;
  const session = await startTestSession(server, { organizationId: member.organization_id, memberId: member.member_id, durationMinutes: 7 * 24 * 60 });
  return { server, member, session };
}

describe.each(STORES.map((factory) => factory.name))('rate limits as configured (%s)', (store) => {
  const started: TestServer[] = [];
  afterAll(async () => Promise.all(started.map((server) => server.stop())));

  it('UNDERSTUDY_RATE_LIMITS_ENABLED=false turns every limit off', async () => {
    const { server, member, session } = await serverWith(store, { rateLimitsEnabled: false });
    started.push(server);
    const call = callerAt(server, '203.0.113.40');
    await repeat(30, () => call(AUTHENTICATE_SESSION, { session_token: 'x'.repeat(44) }));
    expect((await call(AUTHENTICATE_SESSION, { session_token: session.sessionToken })).status).toBe(200);
    const searches = await repeat(110, () => call(SEARCH_ORGANIZATIONS, {}));
    expect(searches.every((answer) => answer.status === 200)).toBe(true);
    const mints = await repeat(65, () => call(MINT, mintBody({ organizationId: member.organization_id, memberId: member.member_id })));
    expect(mints.every((answer) => answer.status === 200)).toBe(true);
  });

  it('takes each limit from its setting, and 0 turns that one limit off', async () => {
    const { server, member, session } = await serverWith(store, { rateLimitAuthFailuresPerMinute: 0, rateLimitSearchesPerMinute: 2, rateLimitMintsPerMinute: 1 });
    started.push(server);
    const call = callerAt(server, '203.0.113.41');
    await repeat(30, () => call(AUTHENTICATE_SESSION, { session_token: 'x'.repeat(44) }));
    expect((await call(AUTHENTICATE_SESSION, { session_token: session.sessionToken })).status).toBe(200);

    expect((await repeat(2, () => call(SEARCH_ORGANIZATIONS, {}))).map((answer) => answer.status)).toEqual([200, 200]);
    expectTooManyRequests(await call(SEARCH_ORGANIZATIONS, {}), { retryAfter: 45 });
    const mint = () => call(MINT, mintBody({ organizationId: member.organization_id, memberId: member.member_id }));
    expect((await mint()).status).toBe(200);
    const refused = await mint();
    expectTooManyRequests(refused, { retryAfter: 45 });
    expect(refused.body.error_message).toBe('Too many requests have been made: at most 1 impersonation tokens minted per project per minute. Retry after 45 seconds.');
  });

  it('with UNDERSTUDY_TRUST_PROXY, counts failures by the client X-Forwarded-For names behind a trusted proxy', async () => {
    const { server, session } = await serverWith(store, { trustProxy: '10.0.0.0/8' });
    started.push(server);
    const proxy = callerAt(server, '10.1.2.3');
    const from = (client: string) => ({ 'x-forwarded-for': client });
    await repeat(20, () => proxy(AUTHENTICATE_SESSION, { session_token: 'x'.repeat(44) }, from('203.0.113.42')));
    expectTooManyRequests(await proxy(AUTHENTICATE_SESSION, { session_token: session.sessionToken }, from('203.0.113.42')), { retryAfter: 45 });
    // Another client behind the same proxy is not limited, and neither is the proxy itself.
    expect((await proxy(AUTHENTICATE_SESSION, { session_token: session.sessionToken }, from('198.51.100.42'))).status).toBe(200);
    expectError(await proxy(AUTHENTICATE_SESSION, { session_token: 'y'.repeat(44) }, from('198.51.100.42')), 404, 'session_not_found');
    expect((await proxy(AUTHENTICATE_SESSION, { session_token: session.sessionToken })).status).toBe(200);
  });
});
