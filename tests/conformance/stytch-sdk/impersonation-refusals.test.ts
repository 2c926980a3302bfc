import { randomBytes } from 'node:crypto';
import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import {
  activeImpersonations,
  addMember,
  createImpersonationCast,
  expectNoSessionOf,
  expectRefusalAudited,
  type ImpersonationCast,
  mintToken,
  policyPath,
  REDEEM,
} from '../../support/impersonation.js';
import { expectStytchRejection } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/**
 * Redemptions client.impersonation.authenticate must refuse: each answers its
 * error_type and status, starts no session, and leaves an `impersonation.redemption_refused` record
 * saying why. Mint refusals are in impersonation-mint-refusals.test.ts.
 */
const UNABLE = { status: 401, errorType: 'unable_to_auth_impersonation_token' } as const;
const NOT_ALLOWED = { status: 403, errorType: 'member_impersonation_not_allowed' } as const;
const REFUSED = 'impersonation.redemption_refused';

for (const store of STORES) {
  describe(`client.impersonation.authenticate refusals (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let cast: ImpersonationCast;

    beforeAll(async () => {
      clock = new ManualClock('2026-03-01T09:00:00Z');
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      cast = await createImpersonationCast(client);
    });
    afterAll(async () => server?.stop());

    async function freshMember() {
      return addMember(client, cast.organization);
    }

    it('a token is single use: the second redemption gets unable_to_auth_impersonation_token (401), the member keeps one session', async () => {
      const member = await freshMember();
      const minted = await mintToken(server, { organizationId: member.organization_id, memberId: member.member_id });
      const first = await client.impersonation.authenticate({ impersonation_token: minted.impersonation_token });
      const error = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: minted.impersonation_token }), UNABLE);
      const { member_sessions } = await client.sessions.get({ organization_id: member.organization_id, member_id: member.member_id });
      expect(member_sessions.map((session) => session.member_session_id)).toEqual([first.member_session?.member_session_id]);
      expect(await activeImpersonations(server, { member_id: member.member_id })).toHaveLength(1);
      const event = await expectRefusalAudited(server, error.request_id as string, { type: REFUSED, errorType: UNABLE.errorType, why: 'already_used' });
      expect(event).toMatchObject({ organization_id: member.organization_id, member_id: member.member_id, impersonator_id: 'support-17' });
    });

    it('a token expires 5 minutes after minting: redeemable at 4:59, refused at 5:00', async () => {
      const early = await freshMember();
      const late = await freshMember();
      const earlyToken = await mintToken(server, { organizationId: early.organization_id, memberId: early.member_id });
      const lateToken = await mintToken(server, { organizationId: late.organization_id, memberId: late.member_id });
      clock.advance(5 * 60_000 - 1_000);
      await client.impersonation.authenticate({ impersonation_token: earlyToken.impersonation_token });
      clock.advance(1_000);
      const error = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: lateToken.impersonation_token }), UNABLE);
      await expectNoSessionOf(server, late);
      await expectRefusalAudited(server, error.request_id as string, { type: REFUSED, errorType: UNABLE.errorType, why: 'expired' });
    });

    it('with expiration_minutes 1 the token is refused a minute after minting', async () => {
      const member = await freshMember();
      const minted = await mintToken(server, { organizationId: member.organization_id, memberId: member.member_id, expirationMinutes: 1 });
      clock.advance(60_000);
      const error = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: minted.impersonation_token }), UNABLE);
      await expectNoSessionOf(server, member);
      await expectRefusalAudited(server, error.request_id as string, { type: REFUSED, errorType: UNABLE.errorType, why: 'expired' });
    });

    const garbage: Record<string, () => string> = {
      'a random 44-character token': () => randomBytes(33).toString('base64url'),
      'a 43-character token': () => randomBytes(33).toString('base64url').slice(0, 43),
      'a 45-character token': () => `${randomBytes(33).toString('base64url')}A`,
      'an empty token': () => '',
      'a token with characters outside base64url': () => `${randomBytes(30).toString('base64url')}+/=.`,
    };
    for (const [name, make] of Object.entries(garbage)) {
      it(`${name} gets unable_to_auth_impersonation_token (401) and is audited as unknown_token`, async () => {
        const error = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: make() }), UNABLE);
        await expectRefusalAudited(server, error.request_id as string, { type: REFUSED, errorType: UNABLE.errorType, why: 'unknown_token' });
      });
    }

    it("a real token's lookup id with a wrong secret is refused, and the real token still redeems afterwards", async () => {
      const member = await freshMember();
      const minted = await mintToken(server, { organizationId: member.organization_id, memberId: member.member_id });
      const forged = `${minted.impersonation_token.slice(0, 12)}${randomBytes(24).toString('base64url')}`;
      expect(forged).toHaveLength(44);
      const error = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: forged }), UNABLE);
      await expectNoSessionOf(server, member);
      await expectRefusalAudited(server, error.request_id as string, { type: REFUSED, errorType: UNABLE.errorType, why: 'unknown_token' });
      const redeemed = await client.impersonation.authenticate({ impersonation_token: minted.impersonation_token });
      expect(redeemed.member_id).toBe(member.member_id);
    });

    it('a body without impersonation_token (or token) is bad_request (400)', async () => {
      const response = await server.fetch(REDEEM, { method: 'POST', json: {} });
      expect({ status: response.status, error_type: response.body.error_type }).toEqual({ status: 400, error_type: 'bad_request' });
    });

    it('a member deleted between mint and redemption: unable_to_auth_impersonation_token, no session, audited as member_deleted', async () => {
      const member = await freshMember();
      const minted = await mintToken(server, { organizationId: member.organization_id, memberId: member.member_id });
      await client.organizations.members.delete({ organization_id: member.organization_id, member_id: member.member_id });
      const error = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: minted.impersonation_token }), UNABLE);
      const ledger = await activeImpersonations(server, { organization_id: member.organization_id });
      expect(ledger.filter((session) => session.member_id === member.member_id)).toEqual([]);
      const event = await expectRefusalAudited(server, error.request_id as string, { type: REFUSED, errorType: UNABLE.errorType, why: 'member_deleted' });
      expect(event.member_id).toBe(member.member_id);
    });

    it('a token minted before its organization disabled impersonation is refused at redemption: member_impersonation_not_allowed (403)', async () => {
      const other = await createImpersonationCast(client);
      const minted = await mintToken(server, { organizationId: other.organization.organization_id, memberId: other.member.member_id });
      const put = await server.fetch(policyPath(other.organization.organization_id), { method: 'PUT', json: { impersonation_enabled: false } });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      const error = await expectStytchRejection(client.impersonation.authenticate({ impersonation_token: minted.impersonation_token }), NOT_ALLOWED);
      await expectNoSessionOf(server, other.member);
      await expectRefusalAudited(server, error.request_id as string, { type: REFUSED, errorType: NOT_ALLOWED.errorType, why: 'disabled_by_organization' });
    });
  });
}
