import { decodeProtectedHeader } from 'jose';
import { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredSigningKey } from '../../../src/crypto/keys/signing-keys-store.js';
import { ManualClock, toTimestamp } from '../../../src/platform/clock.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { startTestSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { uniqueSuffix } from '../../support/wire-formats.js';

/**
 * One rotation walked through its timeline (docs/keys.md) with a hand-moved clock: the new key is
 * published at once, signs after the activation delay, and the old key stays published until every
 * JWT it signed has expired (activation + 300 s JWT lifetime + 60 s skew), then leaves the JWKS.
 * The phases share one server and run in order.
 */
const ACTIVATION_DELAY_SECONDS = 60;
const PUBLISHED_AFTER_ACTIVATION_SECONDS = 300 + 60;

function kidOf(jwt: string): string {
  const { kid } = decodeProtectedHeader(jwt);
  if (typeof kid !== 'string') throw new Error(`JWT without a kid: ${jwt}`);
  return kid;
}

for (const store of STORES) {
  describe(`signing key rotation (${store.name})`, () => {
    // Near real time: the SDK's JWKS cache (jose) runs on the real clock.
    const clock = new ManualClock(toTimestamp(new Date()));
    let target: TestServer;
    let organizationId: string;
    let memberId: string;
    let firstKid: string;
    let rotated: StoredSigningKey;
    /** Signed before the rotation, with the first key. */
    let sessionA: { sessionToken: string; sessionJwt: string; memberSessionId: string };

    beforeAll(async () => {
      target = await startTestServer({ store: store.name, clock });
      const suffix = uniqueSuffix();
      const { organization } = await target.client.organizations.create({ organization_name: `Keys ${suffix}`, organization_slug: `keys-${suffix}` });
      organizationId = organization.organization_id;
      const { member } = await target.client.organizations.members.create({ organization_id: organizationId, email_address: `keys-${suffix}@example.org` });
      memberId = member.member_id;
    });
    afterAll(async () => target?.stop());

    /** The kids of the public JWKS, fetched as jose does: no credentials. */
    async function publishedKids(): Promise<string[]> {
      const response = await fetch(`${target.baseUrl}/v1/b2b/sessions/jwks/${target.projectId}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { keys: { kid: string }[] };
      return body.keys.map((key) => key.kid).sort();
    }

    const newSession = () => startTestSession(target, { organizationId, memberId });

    it('before any rotation, one key is published and signs', async () => {
      sessionA = await newSession();
      firstKid = kidOf(sessionA.sessionJwt);
      expect(await publishedKids()).toEqual([firstKid]);
      const local = await target.client.sessions.authenticateJwtLocal({ session_jwt: sessionA.sessionJwt, current_date: clock.now() });
      expect(local.member_session_id).toBe(sessionA.memberSessionId);
    });

    it('rotating publishes the new key at once while new JWTs are still signed with the old one', async () => {
      const rotatedAt = clock.now();
      rotated = await target.server.app.services.keystore.rotate({ activationDelaySeconds: ACTIVATION_DELAY_SECONDS });
      expect(rotated.kid).not.toBe(firstKid);
      expect(rotated.activeFrom).toBe(toTimestamp(new Date(rotatedAt.getTime() + ACTIVATION_DELAY_SECONDS * 1000)));
      expect(await publishedKids()).toEqual([firstKid, rotated.kid].sort());
      expect(kidOf((await newSession()).sessionJwt)).toBe(firstKid);

      clock.set(new Date(new Date(rotated.activeFrom).getTime() - 1000));
      expect(kidOf((await newSession()).sessionJwt), 'one second before activation').toBe(firstKid);
      expect(await publishedKids()).toEqual([firstKid, rotated.kid].sort());
    });

    it('from the activation on, new JWTs use the new key and a JWT signed before still authenticates', async () => {
      clock.set(rotated.activeFrom);
      const sessionC = await newSession();
      expect(kidOf(sessionC.sessionJwt)).toBe(rotated.kid);
      expect(await publishedKids()).toEqual([firstKid, rotated.kid].sort());

      const response = await target.client.sessions.authenticate({ session_jwt: sessionA.sessionJwt });
      expect(response.member_session.member_session_id).toBe(sessionA.memberSessionId);
      expect(kidOf(response.session_jwt)).toBe(rotated.kid);

      const keys = await target.server.app.services.keystore.describeKeys();
      expect(keys.map(({ kid, state, activeUntil, publishedUntil }) => ({ kid, state, activeUntil, publishedUntil }))).toEqual(
        expect.arrayContaining([
          {
            kid: firstKid,
            state: 'published',
            activeUntil: rotated.activeFrom,
            publishedUntil: toTimestamp(new Date(new Date(rotated.activeFrom).getTime() + PUBLISHED_AFTER_ACTIVATION_SECONDS * 1000)),
          },
          { kid: rotated.kid, state: 'signing', activeUntil: null, publishedUntil: null },
        ]),
      );

      // A client that has not cached the old JWKS fetches the new one and verifies the new key's JWT locally.
      // (A client that fetched the JWKS under 30 s ago would not refetch yet: jose's cooldown, see docs/keys.md.)
      const freshClient = new B2BClient({ project_id: target.projectId, secret: target.secret, env: `${target.baseUrl}/` });
      const local = await freshClient.sessions.authenticateJwtLocal({ session_jwt: sessionC.sessionJwt, current_date: clock.now() });
      expect(local.member_session_id).toBe(sessionC.memberSessionId);
      const old = await freshClient.sessions.authenticateJwtLocal({ session_jwt: sessionA.sessionJwt, current_date: clock.now() });
      expect(old.member_session_id).toBe(sessionA.memberSessionId);
    });

    it('until the old key leaves the JWKS, its JWTs authenticate even past their exp', async () => {
      const publishedUntil = new Date(new Date(rotated.activeFrom).getTime() + PUBLISHED_AFTER_ACTIVATION_SECONDS * 1000);
      clock.set(new Date(publishedUntil.getTime() - 1000));
      expect(await publishedKids()).toEqual([firstKid, rotated.kid].sort());
      const response = await target.client.sessions.authenticate({ session_jwt: sessionA.sessionJwt });
      expect(response.member_session.member_session_id).toBe(sessionA.memberSessionId);
    });

    it('once the old key is retired it leaves the JWKS and its JWTs are refused, while the session lives on', async () => {
      clock.set(new Date(new Date(rotated.activeFrom).getTime() + PUBLISHED_AFTER_ACTIVATION_SECONDS * 1000));
      expect(await publishedKids()).toEqual([rotated.kid]);
      await expectStytchRejection(target.client.sessions.authenticate({ session_jwt: sessionA.sessionJwt }), {
        status: 401,
        errorType: 'unable_to_parse_session_jwt',
      });
      const byToken = await target.client.sessions.authenticate({ session_token: sessionA.sessionToken });
      expect(byToken.member_session.member_session_id).toBe(sessionA.memberSessionId);
      expect(kidOf(byToken.session_jwt)).toBe(rotated.kid);
      const states = (await target.server.app.services.keystore.describeKeys()).map(({ kid, state }) => ({ kid, state }));
      expect(states).toEqual(expect.arrayContaining([{ kid: firstKid, state: 'retired' }, { kid: rotated.kid, state: 'signing' }]));
    });
  });
}
