import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { startSdkTarget, type SdkTarget } from '../../support/sdk-targets.js';
import { emailFactor } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { idPattern } from '../../support/wire-formats.js';
import { AUTHENTICATE, authenticateToken, type Cast, createCast, decodeSessionJwt, liveSessions, minutesFrom, SESSION_CLAIM, startSession } from './session-fixtures.js';

/** `client.sessions.authenticate` of the official SDK: answers, duration and custom claims. */
const FACTOR_AT = '2026-01-02T03:04:05Z';
const INVALID_DURATION = { status: 400, errorType: 'invalid_session_duration_minutes' };

for (const store of STORES) {
  describe(`client.sessions.authenticate (${store.name})`, () => {
    let target: SdkTarget;
    let client: B2BClient;
    let clock: ManualClock;
    let cast: Cast;

    beforeAll(async () => {
      // A clock set to now that only these tests move, so expiries can be checked to the second.
      clock = new ManualClock(new Date());
      target = await startSdkTarget(store.name, 'http', { clock });
      client = target.client;
      cast = await createCast(client);
    });
    afterAll(async () => target?.stop());

    it('by session_token answers the member session, the member, the organization and a session JWT', async () => {
      const factor = emailFactor(cast.admin.email_address, FACTOR_AT);
      const started = await startSession(target.server, cast.admin, { factor, customClaims: { team: 'blue', level: 3 } });
      const now = clock.now();
      const response = await authenticateToken(client, started.sessionToken);
      expect(response.status_code).toBe(200);
      expect(response.request_id).toMatch(idPattern('request-id'));
      expect(response.member_session.member_session_id).toMatch(idPattern('session'));
      expect(response.member_session).toEqual({
        member_session_id: started.memberSessionId,
        member_id: cast.admin.member_id,
        organization_id: cast.organization.organization_id,
        organization_slug: cast.organization.organization_slug,
        roles: ['stytch_member', 'stytch_admin'],
        authentication_factors: [
          {
            type: 'magic_link',
            delivery_method: 'email',
            created_at: FACTOR_AT,
            last_authenticated_at: FACTOR_AT,
            updated_at: FACTOR_AT,
            email_factor: { email_id: 'email-test-00000000-0000-4000-8000-000000000001', email_address: cast.admin.email_address },
          },
        ],
        custom_claims: { team: 'blue', level: 3 },
        started_at: minutesFrom(now, 0),
        last_accessed_at: minutesFrom(now, 0),
        expires_at: minutesFrom(now, 60),
      });
      expect(response.session_token).toBe(started.sessionToken);
      expect(response.member).toEqual(cast.admin);
      expect(response.organization).toEqual(cast.organization);
      const { header, payload } = decodeSessionJwt(response.session_jwt);
      expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: expect.stringMatching(idPattern('jwk')) });
      expect(payload.sub).toBe(cast.admin.member_id);
      expect((payload[SESSION_CLAIM] as { id: string }).id).toBe(started.memberSessionId);
    });

    it('a plain member session holds only stytch_member', async () => {
      const started = await startSession(target.server, cast.member);
      const response = await authenticateToken(client, started.sessionToken);
      expect(response.member_session.roles).toEqual(['stytch_member']);
      expect(response.member_session.custom_claims).toEqual({});
      expect(response.member.member_id).toBe(cast.member.member_id);
    });

    it('by session_jwt answers the same session with session_token "" (only the token digest is stored)', async () => {
      const started = await startSession(target.server, cast.admin);
      const byToken = await authenticateToken(client, started.sessionToken);
      const byJwt = await client.sessions.authenticate({ session_jwt: started.sessionJwt });
      expectToMatchResponseSchema('post', AUTHENTICATE, byJwt);
      expect(byJwt.session_token).toBe('');
      expect(byJwt.member_session).toEqual(byToken.member_session);
      expect(byJwt.member).toEqual(byToken.member);
      expect(byJwt.organization).toEqual(byToken.organization);
      expect(decodeSessionJwt(byJwt.session_jwt).payload.sub).toBe(cast.admin.member_id);
    });

    it('wants exactly one of session_token and session_jwt: neither is no_session_arguments, both too_many_session_arguments', async () => {
      const started = await startSession(target.server, cast.member);
      await expectStytchRejection(client.sessions.authenticate({}), { status: 400, errorType: 'no_session_arguments' });
      await expectStytchRejection(client.sessions.authenticate({ session_duration_minutes: 30 }), { status: 400, errorType: 'no_session_arguments' });
      await expectStytchRejection(client.sessions.authenticate({ session_token: started.sessionToken, session_jwt: started.sessionJwt }), {
        status: 400,
        errorType: 'too_many_session_arguments',
      });
    });

    it('session_duration_minutes 5 and 527040 move expires_at to now + N; omitting it leaves expires_at alone', async () => {
      const started = await startSession(target.server, cast.member);
      const startedAt = clock.now();
      clock.advance(60_000);
      const shortest = await client.sessions.authenticate({ session_token: started.sessionToken, session_duration_minutes: 5 });
      expectToMatchResponseSchema('post', AUTHENTICATE, shortest);
      expect(shortest.member_session.expires_at).toBe(minutesFrom(clock.now(), 5));
      expect(shortest.member_session.started_at).toBe(minutesFrom(startedAt, 0));
      clock.advance(60_000);
      const unchanged = await authenticateToken(client, started.sessionToken);
      expect(unchanged.member_session.expires_at).toBe(shortest.member_session.expires_at);
      const longest = await client.sessions.authenticate({ session_jwt: started.sessionJwt, session_duration_minutes: 527_040 });
      expectToMatchResponseSchema('post', AUTHENTICATE, longest);
      expect(longest.member_session.expires_at).toBe(minutesFrom(clock.now(), 527_040));
      const [listed] = await liveSessions(client, cast.member).then((sessions) => sessions.filter((s) => s.member_session_id === started.memberSessionId));
      expect(listed?.expires_at).toBe(minutesFrom(clock.now(), 527_040));
      const jwtClaim = decodeSessionJwt(longest.session_jwt).payload[SESSION_CLAIM] as { expires_at: string };
      expect(jwtClaim.expires_at).toBe(minutesFrom(clock.now(), 527_040));
    });

    it('refuses session_duration_minutes 4 and 527041 with invalid_session_duration_minutes and keeps the expiry', async () => {
      const started = await startSession(target.server, cast.member, { durationMinutes: 30 });
      const before = await authenticateToken(client, started.sessionToken);
      for (const minutes of [4, 527_041, 0, -5]) {
        await expectStytchRejection(client.sessions.authenticate({ session_token: started.sessionToken, session_duration_minutes: minutes }), INVALID_DURATION);
        await expectStytchRejection(client.sessions.authenticate({ session_jwt: started.sessionJwt, session_duration_minutes: minutes }), INVALID_DURATION);
      }
      const after = await authenticateToken(client, started.sessionToken);
      expect(after.member_session.expires_at).toBe(before.member_session.expires_at);
    });

    it('session_custom_claims merge into the session, null deletes a key, and the JWT carries them at its top level', async () => {
      const started = await startSession(target.server, cast.member, { customClaims: { team: 'blue', keep: true } });
      const merged = await client.sessions.authenticate({ session_token: started.sessionToken, session_custom_claims: { level: 2, nested: { a: [1, 'b'] } } });
      expectToMatchResponseSchema('post', AUTHENTICATE, merged);
      expect(merged.member_session.custom_claims).toEqual({ team: 'blue', keep: true, level: 2, nested: { a: [1, 'b'] } });
      expect(decodeSessionJwt(merged.session_jwt).payload).toMatchObject({ team: 'blue', keep: true, level: 2, nested: { a: [1, 'b'] } });
      const deleted = await client.sessions.authenticate({ session_jwt: started.sessionJwt, session_custom_claims: { team: null, level: 5 } });
      expectToMatchResponseSchema('post', AUTHENTICATE, deleted);
      expect(deleted.member_session.custom_claims).toEqual({ keep: true, level: 5, nested: { a: [1, 'b'] } });
      const { payload } = decodeSessionJwt(deleted.session_jwt);
      expect(payload).not.toHaveProperty('team');
      expect(payload).toMatchObject({ keep: true, level: 5 });
      const reread = await authenticateToken(client, started.sessionToken);
      expect(reread.member_session.custom_claims).toEqual({ keep: true, level: 5, nested: { a: [1, 'b'] } });
    });

    it('refuses reserved, Stytch and oversized custom claims, and a refused call changes neither claims nor expiry', async () => {
      const started = await startSession(target.server, cast.member, { customClaims: { team: 'blue' } });
      const before = await authenticateToken(client, started.sessionToken);
      const refuse = async (claims: Record<string, unknown>, errorType: string) => {
        await expectStytchRejection(
          client.sessions.authenticate({ session_token: started.sessionToken, session_duration_minutes: 600, session_custom_claims: claims }),
          { status: 400, errorType },
        );
      };
      for (const reserved of ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']) {
        await refuse({ ok: 1, [reserved]: 'forged' }, 'reserved_claims_in_custom_claims');
      }
      await refuse({ 'https://stytch.com/session': { id: 'session-test-forged' } }, 'stytch_claims_in_custom_claims');
      await refuse({ big: 'x'.repeat(4100) }, 'custom_claims_too_large');
      // The limit applies to the merged claims, not only to what one call sends.
      await client.sessions.authenticate({ session_token: started.sessionToken, session_custom_claims: { half: 'y'.repeat(2500) } });
      const grown = await authenticateToken(client, started.sessionToken);
      await refuse({ otherHalf: 'z'.repeat(2500) }, 'custom_claims_too_large');
      const after = await authenticateToken(client, started.sessionToken);
      expect(after.member_session.custom_claims).toEqual({ team: 'blue', half: 'y'.repeat(2500) });
      expect(after.member_session.expires_at).toBe(before.member_session.expires_at);
      expect(after.member_session.custom_claims).toEqual(grown.member_session.custom_claims);
      // A number too large for a double (JSON.parse reads 1e309 as Infinity) is refused, not signed in as null.
      const infinite = await target.server.fetch('/v1/b2b/sessions/authenticate', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"session_token":"${started.sessionToken}","session_custom_claims":{"n":1e309}}`,
      });
      expect(infinite.status).toBe(400);
      expect(infinite.body.error_type).toBe('bad_request');
      expect((await authenticateToken(client, started.sessionToken)).member_session.custom_claims).toEqual(grown.member_session.custom_claims);
    });
  });

  describe(`client.sessions.authenticate over HTTPS through custom_base_url (${store.name})`, () => {
    let target: SdkTarget;

    beforeAll(async () => {
      target = await startSdkTarget(store.name, 'https');
    });
    afterAll(async () => target?.stop());

    it('authenticates a session token and answers the documented shape', async () => {
      expect(new URL(target.server.baseUrl).protocol).toBe('https:');
      const cast = await createCast(target.client);
      const started = await startSession(target.server, cast.admin);
      const response = await authenticateToken(target.client, started.sessionToken);
      expect(response.member_session.member_session_id).toBe(started.memberSessionId);
      expect(response.member.member_id).toBe(cast.admin.member_id);
      expect(response.session_token).toBe(started.sessionToken);
    });
  });
}
