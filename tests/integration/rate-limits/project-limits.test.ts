import { StytchError, type Member } from 'stytch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { createImpersonationCast, MINT, mintBody } from '../../support/impersonation.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { DEFAULT_RATE_LIMITS, SEARCH_MEMBERS, SEARCH_ORGANIZATIONS, callerAt, expectError, expectTooManyRequests, repeat, startNextWindow } from './rate-limit-support.js';

/**
 * The per-project limits at their defaults: 60 impersonation mints (refused mints included) and 100
 * calls of each search endpoint per minute (docs/compatibility.md, "Rate limits"). Each test starts
 * 15 s into a fresh minute.
 */
describe.each(STORES.map((factory) => factory.name))('per-project rate limits (%s)', (store) => {
  const clock = new ManualClock('2026-03-01T12:00:15Z');
  let server: TestServer;
  let member: Member;

  beforeAll(async () => {
    server = await startTestServer({ store, clock, config: DEFAULT_RATE_LIMITS });
    member = (await createImpersonationCast(server.client)).member;
  });
  afterAll(async () => server?.stop());
  beforeEach(() => startNextWindow(clock));

  const call = (url: string, json: unknown) => callerAt(server, '127.0.0.1')(url, json);
  const mint = (overrides: { reason?: string } = {}) => call(MINT, mintBody({ organizationId: member.organization_id, memberId: member.member_id, ...overrides }));

  it('counts 60 mints a minute, refused ones included; the 61st gets 429 with Retry-After, the next minute mints again', async () => {
    const refused = await repeat(10, () => mint({ reason: ' ' }));
    for (const answer of refused) expectError(answer, 400, 'invalid_impersonation_reason');
    const minted = await repeat(50, () => mint());
    expect(minted.map((answer) => answer.status)).toEqual(Array.from({ length: 50 }, () => 200));

    expectTooManyRequests(await mint(), { retryAfter: 45 });
    clock.advance(45_000);
    expect((await mint()).status).toBe(200);
  });

  it('limits searches to 100 a minute per endpoint, as Stytch does, and the SDK surfaces the 429', async () => {
    const searches = await repeat(100, () => call(SEARCH_ORGANIZATIONS, {}));
    expect(searches.every((answer) => answer.status === 200)).toBe(true);
    expectTooManyRequests(await call(SEARCH_ORGANIZATIONS, {}), { retryAfter: 45 });
    const error = await server.client.organizations.search({}).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(StytchError);
    expect({ status_code: (error as StytchError).status_code, error_type: (error as StytchError).error_type }).toEqual({
      status_code: 429,
      error_type: 'too_many_requests',
    });

    // The members search has its own count.
    const members = await server.client.organizations.members.search({ organization_ids: [member.organization_id] });
    expect(members.members.map((found) => found.member_id)).toContain(member.member_id);
    clock.advance(45_000);
    expect((await call(SEARCH_ORGANIZATIONS, {})).status).toBe(200);
  });

  it('limits organizations.members.search to 100 a minute', async () => {
    const body = { organization_ids: [member.organization_id] };
    const searches = await repeat(100, () => call(SEARCH_MEMBERS, body));
    expect(searches.every((answer) => answer.status === 200)).toBe(true);
    expectTooManyRequests(await call(SEARCH_MEMBERS, body), { retryAfter: 45 });
  });

  it("does not let calls with wrong credentials or malformed bodies use up the project's budget", async () => {
    const intruder = callerAt({ ...server, secret: 'secret-test-not-the-right-one-0000' }, '203.0.113.30');
    const refused = await repeat(110, () => intruder(SEARCH_ORGANIZATIONS, {}));
    for (const answer of refused) expectError(answer, 401, 'unauthorized_credentials');
    const malformed = await repeat(110, () => call(SEARCH_ORGANIZATIONS, { limit: [] }));
    for (const answer of malformed) expectError(answer, 400, 'bad_request');
    expect((await call(SEARCH_ORGANIZATIONS, {})).status).toBe(200);
  });
});
