import { randomBytes } from 'node:crypto';
import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { startSdkTarget, type SdkTarget } from '../../support/sdk-targets.js';
import { STORES } from '../../support/stores.js';
import {
  AUTHENTICATE,
  authenticateToken,
  type Cast,
  createCast,
  decodeSessionJwt,
  liveSessions,
  minutesFrom,
  SESSION_NOT_FOUND,
  startSession,
} from './session-fixtures.js';

/** Session expiry, JWT refresh, last_accessed_at, sessions.get and token guessing, on a server whose clock the tests move. */
for (const store of STORES) {
  describe(`client.sessions over time (${store.name})`, () => {
    let target: SdkTarget;
    let client: B2BClient;
    let clock: ManualClock;
    let cast: Cast;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      target = await startSdkTarget(store.name, 'http', { clock });
      client = target.client;
      cast = await createCast(client);
    });
    afterAll(async () => target?.stop());

    it('a session lives until expires_at, after which its token and JWT answer session_not_found (404)', async () => {
      const started = await startSession(target.server, cast.member, { durationMinutes: 5 });
      const { member_session } = await authenticateToken(client, started.sessionToken);
      expect(member_session.expires_at).toBe(minutesFrom(clock.now(), 5));
      clock.advance(5 * 60_000 - 1_000);
      await authenticateToken(client, started.sessionToken);
      clock.advance(1_000);
      await expectStytchRejection(client.sessions.authenticate({ session_token: started.sessionToken }), SESSION_NOT_FOUND);
      await expectStytchRejection(client.sessions.authenticate({ session_jwt: started.sessionJwt }), SESSION_NOT_FOUND);
      // Nor can an expired session be extended back to life.
      await expectStytchRejection(client.sessions.authenticate({ session_token: started.sessionToken, session_duration_minutes: 60 }), SESSION_NOT_FOUND);
      expect((await liveSessions(client, cast.member)).map((session) => session.member_session_id)).not.toContain(started.memberSessionId);
    });

    it('a JWT past its 5-minute exp is accepted while its session lives, and the answer carries a fresh JWT with a later exp', async () => {
      const started = await startSession(target.server, cast.admin);
      const old = decodeSessionJwt(started.sessionJwt).payload;
      expect((old.exp ?? 0) - (old.iat ?? 0)).toBe(300);
      clock.advance(6 * 60_000);
      expect(old.exp ?? Number.POSITIVE_INFINITY).toBeLessThan(clock.now().getTime() / 1000);
      const response = await client.sessions.authenticate({ session_jwt: started.sessionJwt });
      expectToMatchResponseSchema('post', AUTHENTICATE, response);
      expect(response.member_session.member_session_id).toBe(started.memberSessionId);
      expect(response.session_jwt).not.toBe(started.sessionJwt);
      const fresh = decodeSessionJwt(response.session_jwt).payload;
      expect(fresh.exp).toBe(Math.floor(clock.now().getTime() / 1000) + 300);
      expect(fresh.exp ?? 0).toBeGreaterThan(old.exp ?? 0);
      // The fresh JWT authenticates too.
      const again = await client.sessions.authenticate({ session_jwt: response.session_jwt });
      expect(again.member_session.member_session_id).toBe(started.memberSessionId);
    });

    it('last_accessed_at moves forward at most once a minute', async () => {
      const started = await startSession(target.server, cast.member);
      const startedAt = minutesFrom(clock.now(), 0);
      clock.advance(30_000);
      expect((await authenticateToken(client, started.sessionToken)).member_session.last_accessed_at).toBe(startedAt);
      clock.advance(29_000);
      expect((await client.sessions.authenticate({ session_jwt: started.sessionJwt })).member_session.last_accessed_at).toBe(startedAt);
      clock.advance(2_000);
      const moved = await authenticateToken(client, started.sessionToken);
      expect(moved.member_session.last_accessed_at).toBe(minutesFrom(clock.now(), 0));
      const listed = (await liveSessions(client, cast.member)).find((session) => session.member_session_id === started.memberSessionId);
      expect(listed?.last_accessed_at).toBe(minutesFrom(clock.now(), 0));
      expect(listed?.started_at).toBe(startedAt);
      clock.advance(10_000);
      expect((await authenticateToken(client, started.sessionToken)).member_session.last_accessed_at).toBe(moved.member_session.last_accessed_at);
    });

    it("sessions.get lists only the member's live sessions: not revoked, not expired, not another member's or organization's", async () => {
      const mine = await createCast(client);
      const other = await createCast(client);
      const live = await startSession(target.server, mine.member, { durationMinutes: 120 });
      const revoked = await startSession(target.server, mine.member, { durationMinutes: 120 });
      const expiring = await startSession(target.server, mine.member, { durationMinutes: 5 });
      await startSession(target.server, mine.admin, { durationMinutes: 120 });
      await startSession(target.server, other.member, { durationMinutes: 120 });
      clock.advance(1_000);
      const later = await startSession(target.server, mine.member, { durationMinutes: 120 });
      await client.sessions.revoke({ member_session_id: revoked.memberSessionId });
      const ids = (sessions: { member_session_id: string }[]) => sessions.map((session) => session.member_session_id).sort();
      expect(ids(await liveSessions(client, mine.member))).toEqual([live.memberSessionId, expiring.memberSessionId, later.memberSessionId].sort());
      clock.advance(5 * 60_000);
      const listed = await liveSessions(client, mine.member);
      expect(ids(listed)).toEqual([live.memberSessionId, later.memberSessionId].sort());
      // Oldest first.
      expect(listed.at(-1)?.member_session_id).toBe(later.memberSessionId);
      for (const session of listed) {
        expect(session).toMatchObject({
          member_id: mine.member.member_id,
          organization_id: mine.organization.organization_id,
          organization_slug: mine.organization.organization_slug,
          roles: ['stytch_member'],
        });
      }
      const bySlug = await client.sessions.get({ organization_id: mine.organization.organization_slug, member_id: mine.member.member_id });
      expect(bySlug.member_sessions).toEqual(listed);
      await expectStytchRejection(client.sessions.get({ organization_id: other.organization.organization_id, member_id: mine.member.member_id }), {
        status: 404,
        errorType: 'member_not_found',
      });
      const fresh = await createCast(client);
      expect(await liveSessions(client, fresh.member)).toEqual([]);
    });

    it('200 random 44-character tokens, a real lookup id with a wrong secret and malformed tokens all answer session_not_found', async () => {
      const started = await startSession(target.server, cast.member, { durationMinutes: 600 });
      const before = await liveSessions(client, cast.member);
      const guesses = Array.from({ length: 200 }, () => randomBytes(33).toString('base64url'));
      for (const guess of guesses) expect(guess).toMatch(/^[A-Za-z0-9_-]{44}$/);
      const wrongSecret = started.sessionToken.slice(0, 12) + randomBytes(24).toString('base64url');
      expect(wrongSecret).toHaveLength(44);
      expect(wrongSecret).not.toBe(started.sessionToken);
      const malformed = [
        started.sessionToken.slice(0, 43),
        `${started.sessionToken}A`,
        `${started.sessionToken.slice(0, 43)}+`,
        `${started.sessionToken.slice(0, 43)}=`,
        `${started.sessionToken.slice(0, 12)}${'é'.repeat(32)}`,
        'x',
        ' '.repeat(44),
        started.sessionToken.toUpperCase() === started.sessionToken ? started.sessionToken.toLowerCase() : started.sessionToken.toUpperCase(),
      ];
      for (let index = 0; index < guesses.length; index += 20) {
        await Promise.all(
          guesses.slice(index, index + 20).map((guess) => expectStytchRejection(client.sessions.authenticate({ session_token: guess }), SESSION_NOT_FOUND)),
        );
      }
      for (const token of [wrongSecret, ...malformed]) {
        await expectStytchRejection(client.sessions.authenticate({ session_token: token }), SESSION_NOT_FOUND);
      }
      // Guessing neither locks out nor changes the real session, and creates none.
      expect((await authenticateToken(client, started.sessionToken)).member_session.member_session_id).toBe(started.memberSessionId);
      expect(await liveSessions(client, cast.member)).toEqual(before);
    });
  });
}
