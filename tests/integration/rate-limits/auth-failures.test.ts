import type { Member } from 'stytch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { createImpersonationCast, mintToken } from '../../support/impersonation.js';
import { startTestSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import {
  AUTHENTICATE_SESSION,
  DEFAULT_RATE_LIMITS,
  REDEEM_IMPERSONATION,
  callerAt,
  expectError,
  expectTooManyRequests,
  repeat,
  startNextWindow,
  unknownToken,
} from './rate-limit-support.js';

/**
 * UNDERSTUDY_RATE_LIMIT_AUTH_FAILURES_PER_MINUTE (default 20): failed session and impersonation
 * authentications that present a token this server never issued, counted per client address. Past
 * the limit, every authentication from that address gets 429 until the minute ends
 * (docs/compatibility.md, "Rate limits"). Each test starts 15 s into a fresh minute.
 */
describe.each(STORES.map((factory) => factory.name))('failed authentications per client address (%s)', (store) => {
  const clock = new ManualClock('2026-03-01T12:00:15Z');
  let server: TestServer;
  let member: Member;
  let session: { sessionToken: string; sessionJwt: string };

  beforeAll(async () => {
    server = await startTestServer({ store, clock, config: DEFAULT_RATE_LIMITS });
    member = (await createImpersonationCast(server.client)).member;
    session = await startTestSession(server, { organizationId: member.organization_id, memberId: member.member_id, durationMinutes: 7 * 24 * 60 });
  });
  afterAll(async () => server?.stop());
  beforeEach(() => startNextWindow(clock));

  const authenticate = (address: string, body: Record<string, unknown>) => callerAt(server, address)(AUTHENTICATE_SESSION, body);

  it('answers 20 unknown session tokens with session_not_found, then refuses the address with 429 and Retry-After, valid token or not', async () => {
    const failures = await repeat(20, () => authenticate('203.0.113.10', { session_token: unknownToken() }));
    for (const answer of failures) expectError(answer, 404, 'session_not_found');

    expectTooManyRequests(await authenticate('203.0.113.10', { session_token: session.sessionToken }), { retryAfter: 45 });
    expectTooManyRequests(await authenticate('203.0.113.10', { session_token: unknownToken() }), { retryAfter: 45 });
    clock.advance(30_000);
    expectTooManyRequests(await authenticate('203.0.113.10', { session_jwt: session.sessionJwt }), { retryAfter: 15 });
  });

  it('lets the address authenticate again once the minute is over', async () => {
    await repeat(21, () => authenticate('203.0.113.11', { session_token: unknownToken() }));
    expectTooManyRequests(await authenticate('203.0.113.11', { session_token: session.sessionToken }), { retryAfter: 45 });
    clock.advance(45_000);
    const answer = await authenticate('203.0.113.11', { session_token: session.sessionToken });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.member_id ?? (answer.body.member as { member_id?: string }).member_id).toBe(member.member_id);
  });

  it("never limits another address: its valid authentications succeed and its failures are its own", async () => {
    await repeat(25, () => authenticate('203.0.113.12', { session_token: unknownToken() }));
    expectTooManyRequests(await authenticate('203.0.113.12', { session_token: session.sessionToken }), { retryAfter: 45 });

    expect((await authenticate('198.51.100.20', { session_token: session.sessionToken })).status).toBe(200);
    expect((await authenticate('198.51.100.20', { session_jwt: session.sessionJwt })).status).toBe(200);
    expectError(await authenticate('198.51.100.20', { session_token: unknownToken() }), 404, 'session_not_found');
    expect((await authenticate('198.51.100.20', { session_token: session.sessionToken })).status).toBe(200);
  });

  it('allows 19 failures and a success in between without refusing the address', async () => {
    await repeat(19, () => authenticate('203.0.113.13', { session_token: unknownToken() }));
    const answers = await repeat(5, () => authenticate('203.0.113.13', { session_token: session.sessionToken }));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expectError(await authenticate('203.0.113.13', { session_token: unknownToken() }), 404, 'session_not_found');
    expectTooManyRequests(await authenticate('203.0.113.13', { session_token: session.sessionToken }), { retryAfter: 45 });
  });

  it("does not count a revoked session's token: a stale cookie is not a guess", async () => {
    const revoked = await startTestSession(server, { organizationId: member.organization_id, memberId: member.member_id });
    await server.client.sessions.revoke({ session_token: revoked.sessionToken });
    const answers = await repeat(30, () => authenticate('203.0.113.14', { session_token: revoked.sessionToken }));
    for (const answer of answers) expectError(answer, 404, 'session_not_found');
    expect((await authenticate('203.0.113.14', { session_token: session.sessionToken })).status).toBe(200);
  });

  it('counts session JWTs whose signature does not verify', async () => {
    const [header, payload] = session.sessionJwt.split('.');
    const forged = `${header}.${payload}.${Buffer.alloc(256, 1).toString('base64url')}`;
    const answers = await repeat(20, () => authenticate('203.0.113.15', { session_jwt: forged }));
    for (const answer of answers) expectError(answer, 401, 'unable_to_parse_session_jwt');
    expectTooManyRequests(await authenticate('203.0.113.15', { session_jwt: session.sessionJwt }), { retryAfter: 45 });
  });

  it('counts IPv6 clients by their /64, and an IPv4-mapped address as the IPv4 address', async () => {
    await repeat(20, (index) => authenticate(`2001:db8:a:b::${index + 1}`, { session_token: unknownToken() }));
    expectTooManyRequests(await authenticate('2001:db8:a:b:ffff:1:2:3', { session_token: session.sessionToken }), { retryAfter: 45 });
    expect((await authenticate('2001:db8:a:c::1', { session_token: session.sessionToken })).status).toBe(200);

    await repeat(20, () => authenticate('::ffff:203.0.113.16', { session_token: unknownToken() }));
    expectTooManyRequests(await authenticate('203.0.113.16', { session_token: session.sessionToken }), { retryAfter: 45 });
  });

  it('ignores X-Forwarded-For unless a proxy is trusted: a spoofed header does not escape the limit', async () => {
    const caller = callerAt(server, '203.0.113.17');
    await repeat(20, (index) => caller(AUTHENTICATE_SESSION, { session_token: unknownToken() }, { 'x-forwarded-for': `192.0.2.${index + 1}` }));
    expectTooManyRequests(await caller(AUTHENTICATE_SESSION, { session_token: session.sessionToken }, { 'x-forwarded-for': '192.0.2.200' }), { retryAfter: 45 });
  });

  it('answers 20 unknown impersonation tokens with unable_to_auth_impersonation_token, then refuses even a valid one without using it up', async () => {
    const redeem = callerAt(server, '203.0.113.18');
    const failures = await repeat(20, () => redeem(REDEEM_IMPERSONATION, { impersonation_token: unknownToken() }));
    for (const answer of failures) expectError(answer, 401, 'unable_to_auth_impersonation_token');

    const minted = await mintToken(server, { organizationId: member.organization_id, memberId: member.member_id });
    expectTooManyRequests(await redeem(REDEEM_IMPERSONATION, { impersonation_token: minted.impersonation_token }), { retryAfter: 45 });
    // The refused attempt did not spend the token: it still works from another address.
    const elsewhere = await callerAt(server, '198.51.100.21')(REDEEM_IMPERSONATION, { impersonation_token: minted.impersonation_token });
    expect(elsewhere.status, JSON.stringify(elsewhere.body)).toBe(200);
    expect(elsewhere.body.member_id).toBe(member.member_id);
  });

  it('does not count redemptions of a known token that is already used', async () => {
    const minted = await mintToken(server, { organizationId: member.organization_id, memberId: member.member_id });
    const redeem = callerAt(server, '203.0.113.19');
    expect((await redeem(REDEEM_IMPERSONATION, { impersonation_token: minted.impersonation_token })).status).toBe(200);
    const again = await repeat(25, () => redeem(REDEEM_IMPERSONATION, { impersonation_token: minted.impersonation_token }));
    for (const answer of again) expectError(answer, 401, 'unable_to_auth_impersonation_token');
    expect((await authenticate('203.0.113.19', { session_token: session.sessionToken })).status).toBe(200);
  });

  it('spends one budget per address on session and impersonation failures together', async () => {
    await repeat(10, () => authenticate('203.0.113.20', { session_token: unknownToken() }));
    await repeat(10, () => callerAt(server, '203.0.113.20')(REDEEM_IMPERSONATION, { impersonation_token: unknownToken() }));
    expectTooManyRequests(await authenticate('203.0.113.20', { session_token: session.sessionToken }), { retryAfter: 45 });
  });
});
