import type { Member } from 'stytch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { createImpersonationCast, MINT, mintBody } from '../../support/impersonation.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import {
  DEFAULT_RATE_LIMITS,
  SEARCH_ORGANIZATIONS,
  callerAt,
  consoleSignInAt,
  createOperatorOn,
  expectSignInJudged,
  expectSignInRefused,
  expectTooManyRequests,
  repeat,
  startNextWindow,
  wrongSignIns,
} from './rate-limit-support.js';

/** A server with these settings, an organization and a member, 15 s into a minute. */
async function serverWith(store: 'sqlite' | 'postgres', config: Partial<Config>) {
  const server = await startTestServer({ store, clock: new ManualClock('2026-03-01T12:00:15Z'), config: { ...DEFAULT_RATE_LIMITS, ...config } });
  const member: Member = (await createImpersonationCast(server.client)).member;
  return { server, member };
}

describe.each(STORES.map((factory) => factory.name))('rate limits as configured (%s)', (store) => {
  const started: TestServer[] = [];
  afterAll(async () => Promise.all(started.map((server) => server.stop())));

  it('UNDERSTUDY_RATE_LIMITS_ENABLED=false turns every limit off', async () => {
    const { server, member } = await serverWith(store, { rateLimitsEnabled: false });
    started.push(server);
    const call = callerAt(server, '203.0.113.40');
    for (const answer of await wrongSignIns(server, 15, () => '203.0.113.40')) expectSignInJudged(answer);
    const operator = await createOperatorOn(server);
    expect((await consoleSignInAt(server, '203.0.113.40', operator.emailAddress, operator.password)).status).toBe(303);
    const searches = await repeat(110, () => call(SEARCH_ORGANIZATIONS, {}));
    expect(searches.every((answer) => answer.status === 200)).toBe(true);
    const mints = await repeat(65, () => call(MINT, mintBody({ organizationId: member.organization_id, memberId: member.member_id })));
    expect(mints.every((answer) => answer.status === 200)).toBe(true);
  });

  it('takes each limit from its setting, and 0 turns that one limit off', async () => {
    const { server, member } = await serverWith(store, { rateLimitConsoleSignInsPerMinute: 0, rateLimitSearchesPerMinute: 2, rateLimitMintsPerMinute: 1 });
    started.push(server);
    const call = callerAt(server, '203.0.113.41');
    for (const answer of await wrongSignIns(server, 15, () => '203.0.113.41')) expectSignInJudged(answer);
    const operator = await createOperatorOn(server);
    expect((await consoleSignInAt(server, '203.0.113.41', operator.emailAddress, operator.password)).status).toBe(303);

    expect((await repeat(2, () => call(SEARCH_ORGANIZATIONS, {}))).map((answer) => answer.status)).toEqual([200, 200]);
    expectTooManyRequests(await call(SEARCH_ORGANIZATIONS, {}), { retryAfter: 45 });
    const mint = () => call(MINT, mintBody({ organizationId: member.organization_id, memberId: member.member_id }));
    expect((await mint()).status).toBe(200);
    const refused = await mint();
    expectTooManyRequests(refused, { retryAfter: 45 });
    expect(refused.body.error_message).toBe('Too many requests have been made: at most 1 impersonation tokens minted per project per minute. Retry after 45 seconds.');
  });

  it('takes the console sign-in limit from its setting', async () => {
    const { server } = await serverWith(store, { rateLimitConsoleSignInsPerMinute: 3 });
    started.push(server);
    for (const answer of await wrongSignIns(server, 3, () => '203.0.113.43')) expectSignInJudged(answer);
    expectSignInRefused(await consoleSignInAt(server, '203.0.113.43', 'nobody@operators.example', 'not the password'), { retryAfter: 45, limit: 3 });
  });

  it('with UNDERSTUDY_TRUST_PROXY, counts console sign-ins by the client X-Forwarded-For names behind a trusted proxy', async () => {
    const { server } = await serverWith(store, { trustProxy: '10.0.0.0/8' });
    started.push(server);
    const operator = await createOperatorOn(server);
    const from = (client: string) => ({ 'x-forwarded-for': client });
    for (const answer of await wrongSignIns(server, 10, () => '10.1.2.3', () => from('203.0.113.42'))) expectSignInJudged(answer);
    expectSignInRefused(await consoleSignInAt(server, '10.1.2.3', operator.emailAddress, operator.password, from('203.0.113.42')), { retryAfter: 45 });
    // Another client behind the same proxy is not limited, and neither is the proxy itself.
    expectSignInJudged(await consoleSignInAt(server, '10.1.2.3', 'nobody@operators.example', 'not the password', from('198.51.100.42')));
    expect((await consoleSignInAt(server, '10.1.2.3', operator.emailAddress, operator.password, from('198.51.100.42'))).status).toBe(303);
    expect((await consoleSignInAt(server, '10.1.2.3', operator.emailAddress, operator.password)).status).toBe(303);
  });
});

/**
 * Which client a console sign-in attempt counts against, at the default limit of 10 a minute
 * (docs/compatibility.md, "Rate limits"). No proxy is trusted. Each test starts 15 s into a fresh minute.
 */
describe.each(STORES.map((factory) => factory.name))('the client address of the per-client limit (%s)', (store) => {
  const clock = new ManualClock('2026-03-01T12:00:15Z');
  let server: TestServer;
  let operator: { emailAddress: string; password: string };

  beforeAll(async () => {
    server = await startTestServer({ store, clock, config: DEFAULT_RATE_LIMITS });
    operator = await createOperatorOn(server);
  });
  afterAll(async () => server?.stop());
  beforeEach(() => startNextWindow(clock));

  const rightPassword = (address: string, headers?: Record<string, string>) => consoleSignInAt(server, address, operator.emailAddress, operator.password, headers);

  it('ignores X-Forwarded-For unless a proxy is trusted: a spoofed header does not escape the limit', async () => {
    const spoofed = (index: number) => ({ 'x-forwarded-for': `192.0.2.${index + 1}` });
    for (const answer of await wrongSignIns(server, 10, () => '203.0.113.17', spoofed)) expectSignInJudged(answer);
    expectSignInRefused(await rightPassword('203.0.113.17', { 'x-forwarded-for': '192.0.2.200' }), { retryAfter: 45 });
    // The addresses the header named were never counted.
    expect((await rightPassword('192.0.2.1')).status).toBe(303);
  });

  it('counts IPv6 clients by their /64, and an IPv4-mapped address as the IPv4 address', async () => {
    for (const answer of await wrongSignIns(server, 10, (index) => `2001:db8:a:b::${index + 1}`)) expectSignInJudged(answer);
    expectSignInRefused(await rightPassword('2001:db8:a:b:ffff:1:2:3'), { retryAfter: 45 });
    expect((await rightPassword('2001:db8:a:c::1')).status).toBe(303);

    for (const answer of await wrongSignIns(server, 10, () => '::ffff:203.0.113.16')) expectSignInJudged(answer);
    expectSignInRefused(await rightPassword('203.0.113.16'), { retryAfter: 45 });
    expect((await rightPassword('203.0.113.160')).status).toBe(303);
  });
});
