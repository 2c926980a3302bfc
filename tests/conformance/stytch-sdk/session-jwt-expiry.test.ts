import type { Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { createImpersonationCast, impersonate } from '../../support/impersonation.js';
import { startTestSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { decodeSessionJwt } from './session-fixtures.js';

/**
 * A session JWT is valid for 5 minutes, but never after its session ends: the SDK's local check
 * (`authenticateJwtLocal`, which never asks the server) must refuse it once the session is over.
 */
describe.each(STORES)('session JWTs end with their session ($name)', ({ name: store }) => {
  const clock = new ManualClock('2026-04-01T09:00:00Z');
  let server: TestServer;
  let member: Member;

  beforeAll(async () => {
    server = await startTestServer({ store, clock });
    member = (await createImpersonationCast(server.client)).member;
  });
  afterAll(async () => server?.stop());

  /** What the SDK decides locally at `at`, without asking the server. */
  async function acceptedLocallyAt(jwt: string, at: Date): Promise<boolean> {
    try {
      await server.client.sessions.authenticateJwtLocal({ session_jwt: jwt, current_date: at });
      return true;
    } catch {
      return false;
    }
  }

  it("an impersonated session's JWT in its last minute expires with the session", async () => {
    const { redeemed } = await impersonate(server, member);
    const sessionEnd = new Date(String(redeemed.member_session?.expires_at));
    expect(sessionEnd.getTime() - clock.now().getTime()).toBe(60 * 60_000);
    // The 59th minute: the JWT the application gets now would have lived 4 minutes past the session.
    clock.advance(59 * 60_000);
    const refreshed = await server.client.sessions.authenticate({ session_token: redeemed.session_token });
    const { payload } = decodeSessionJwt(refreshed.session_jwt);
    expect(payload.exp).toBe(sessionEnd.getTime() / 1000);
    expect(await acceptedLocallyAt(refreshed.session_jwt, new Date(sessionEnd.getTime() - 1_000))).toBe(true);
    expect(await acceptedLocallyAt(refreshed.session_jwt, new Date(sessionEnd.getTime() + 1_000))).toBe(false);
  });

  it('any session: exp is the earlier of five minutes and the session end', async () => {
    const started = await startTestSession(server, { organizationId: member.organization_id, memberId: member.member_id, durationMinutes: 7 });
    const first = decodeSessionJwt(started.sessionJwt).payload;
    expect((first.exp ?? 0) - (first.iat ?? 0)).toBe(300);
    clock.advance(5 * 60_000);
    const late = await server.client.sessions.authenticate({ session_token: started.sessionToken });
    const { payload } = decodeSessionJwt(late.session_jwt);
    expect(payload.exp).toBe(new Date(late.member_session.expires_at).getTime() / 1000);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(120);
  });
});
