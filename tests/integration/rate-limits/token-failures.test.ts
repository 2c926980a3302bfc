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
  repeat,
  startNextWindow,
  unknownToken,
} from './rate-limit-support.js';

/**
 * Session tokens, session JWTs and impersonation tokens cannot be guessed, and the client calling
 * sessions.authenticate is the customer's backend: bogus tokens (a visitor's forged cookie) must
 * never get that backend's genuine ones refused. With the rate limits at their defaults, floods of
 * unknown tokens and forged JWTs are answered one by one, and genuine credentials always work
 * (docs/compatibility.md, "Rate limits").
 */
describe.each(STORES.map((factory) => factory.name))('failed token authentications (%s)', (store) => {
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
  const redeem = (address: string, token: string) => callerAt(server, address)(REDEEM_IMPERSONATION, { impersonation_token: token });

  it("answers every unknown session token with session_not_found and keeps accepting the backend's genuine ones", async () => {
    const backend = '203.0.113.10';
    const failures = await repeat(60, () => authenticate(backend, { session_token: unknownToken() }));
    for (const answer of failures) expectError(answer, 404, 'session_not_found');
    for (const body of [{ session_token: session.sessionToken }, { session_jwt: session.sessionJwt }]) {
      const answer = await authenticate(backend, body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect((answer.body.member as { member_id?: string }).member_id).toBe(member.member_id);
    }
    // Still answered one by one after the flood, not with 429.
    expectError(await authenticate(backend, { session_token: unknownToken() }), 404, 'session_not_found');
  });

  it('answers forged session JWTs with unable_to_parse_session_jwt, never with 429', async () => {
    const [header, payload] = session.sessionJwt.split('.');
    const forged = `${header}.${payload}.${Buffer.alloc(256, 1).toString('base64url')}`;
    const answers = await repeat(40, () => authenticate('203.0.113.15', { session_jwt: forged }));
    for (const answer of answers) expectError(answer, 401, 'unable_to_parse_session_jwt');
    expect((await authenticate('203.0.113.15', { session_jwt: session.sessionJwt })).status).toBe(200);
  });

  it('redeems a genuine impersonation token after a flood of unknown ones from the same backend', async () => {
    const failures = await repeat(40, () => redeem('203.0.113.18', unknownToken()));
    for (const answer of failures) expectError(answer, 401, 'unable_to_auth_impersonation_token');
    const minted = await mintToken(server, { organizationId: member.organization_id, memberId: member.member_id });
    const answer = await redeem('203.0.113.18', minted.impersonation_token);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.member_id).toBe(member.member_id);
    expect((await authenticate('203.0.113.18', { session_token: session.sessionToken })).status).toBe(200);
  });
});
