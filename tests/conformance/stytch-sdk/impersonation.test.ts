import type { B2BClient, Member } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import {
  activeImpersonations,
  addMember,
  createImpersonationCast,
  type ImpersonationCast,
  IMPERSONATOR,
  impersonate,
  mintToken,
  OPAQUE_TOKEN,
  REASON,
  REDEEM,
} from '../../support/impersonation.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { startTestSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern } from '../../support/wire-formats.js';
import { AUTHENTICATE, decodeSessionJwt, liveSessions, minutesFrom, SESSION_NOT_FOUND } from './session-fixtures.js';

/**
 * client.impersonation.authenticate exactly as Stytch answers it, on a token
 * minted through our extension, and the impersonated session it starts. The server's clock is a
 * ManualClock set to real time, so the SDK's local JWT checks (real time) agree with the server;
 * only the last test moves it, past the session's hour.
 */
const FACTOR = {
  type: 'impersonated',
  delivery_method: 'impersonation',
  impersonated_factor: { impersonator_id: IMPERSONATOR.id, impersonator_email_address: IMPERSONATOR.emailAddress },
};

/** The member's effective role ids as members.get shows them. */
function roleIdsOf(member: Member): string[] {
  return member.roles.map((role) => role.role_id);
}

for (const store of STORES) {
  describe(`client.impersonation.authenticate (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let cast: ImpersonationCast;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      cast = await createImpersonationCast(client);
    });
    afterAll(async () => server?.stop());

    it('answers every field of api_b2b_impersonation_v1_AuthenticateResponse: member, organization, a new session, no MFA and no intermediate session', async () => {
      const member = await addMember(client, cast.organization);
      const minted = await mintToken(server, { organizationId: member.organization_id, memberId: member.member_id });
      const now = clock.now();
      const response = await client.impersonation.authenticate({ impersonation_token: minted.impersonation_token });
      expectToMatchResponseSchema('post', REDEEM, response);
      expect(response.request_id).toMatch(idPattern('request-id'));
      expect(response).toMatchObject({
        member_id: member.member_id,
        organization_id: cast.organization.organization_id,
        intermediate_session_token: '',
        member_authenticated: true,
        mfa_required: null,
        status_code: 200,
      });
      expect(response.session_token).toMatch(OPAQUE_TOKEN);
      expect(response.session_jwt.split('.')).toHaveLength(3);
      expect(response.member).toEqual((await client.organizations.members.get({ organization_id: member.organization_id, member_id: member.member_id })).member);
      expect(response.organization).toEqual((await client.organizations.get({ organization_id: cast.organization.organization_id })).organization);
      const at = minutesFrom(now, 0);
      expect(response.member_session).toEqual({
        member_session_id: expect.stringMatching(idPattern('session')),
        member_id: member.member_id,
        organization_id: cast.organization.organization_id,
        organization_slug: cast.organization.organization_slug,
        roles: ['stytch_member'],
        authentication_factors: [{ ...FACTOR, created_at: at, last_authenticated_at: at, updated_at: at }],
        custom_claims: {},
        started_at: at,
        last_accessed_at: at,
        expires_at: minutesFrom(now, 60),
      });
    });

    it("the impersonated session holds the member's own roles (an admin's session is an admin's)", async () => {
      const { redeemed } = await impersonate(server, cast.admin);
      expect(redeemed.member_session?.roles).toEqual(['stytch_member', 'stytch_admin']);
      const normal = await startTestSession(server, { organizationId: cast.admin.organization_id, memberId: cast.admin.member_id });
      const normalRoles = (await client.sessions.authenticate({ session_token: normal.sessionToken })).member_session.roles;
      expect(redeemed.member_session?.roles).toEqual(normalRoles);
      expect([...normalRoles].sort()).toEqual(roleIdsOf(cast.admin).sort());
      expect(redeemed.member_session?.authentication_factors).toHaveLength(1);
    });

    it('the older request field name `token` redeems too (raw HTTP), with the same answer shape', async () => {
      const member = await addMember(client, cast.organization);
      const minted = await mintToken(server, { organizationId: member.organization_id, memberId: member.member_id });
      const response = await server.fetch(REDEEM, { method: 'POST', json: { token: minted.impersonation_token } });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expectToMatchResponseSchema('post', REDEEM, response.body);
      expect(response.body).toMatchObject({ member_id: member.member_id, member_authenticated: true, intermediate_session_token: '', mfa_required: null });
      expect(response.body.session_token).toMatch(OPAQUE_TOKEN);
      const again = await server.fetch(REDEEM, { method: 'POST', json: { impersonation_token: minted.impersonation_token } });
      expect({ status: again.status, error_type: again.body.error_type }).toEqual({ status: 401, error_type: 'unable_to_auth_impersonation_token' });
    });

    it('sessions.authenticate accepts the impersonated session and shows the impersonated factor', async () => {
      const member = await addMember(client, cast.organization);
      const { redeemed } = await impersonate(server, member);
      const response = await client.sessions.authenticate({ session_token: redeemed.session_token });
      expectToMatchResponseSchema('post', AUTHENTICATE, response);
      expect(response.member_session).toEqual(redeemed.member_session);
      expect(response.member.member_id).toBe(member.member_id);
      // `act` is not a custom claim of the session, so the remote answer does not list it (docs/impersonation.md).
      expect(response.member_session.custom_claims).toEqual({});
      const byJwt = await client.sessions.authenticate({ session_jwt: redeemed.session_jwt });
      expect(byJwt.member_session.authentication_factors).toEqual(redeemed.member_session?.authentication_factors);
    });

    it('session_duration_minutes: 600 does not extend it: expires_at stays started_at + 60 minutes', async () => {
      const member = await addMember(client, cast.organization);
      const { redeemed } = await impersonate(server, member);
      const expiresAt = redeemed.member_session?.expires_at;
      clock.advance(2 * 60_000);
      const response = await client.sessions.authenticate({ session_token: redeemed.session_token, session_duration_minutes: 600 });
      expect(response.member_session.expires_at).toBe(expiresAt);
      expect(Date.parse(response.member_session.expires_at) - Date.parse(response.member_session.started_at)).toBe(60 * 60_000);
      const byJwt = await client.sessions.authenticate({ session_jwt: redeemed.session_jwt, session_duration_minutes: 600 });
      expect(byJwt.member_session.expires_at).toBe(expiresAt);
      clock.set(new Date());
    });

    it('the session JWT carries act {sub, email} at top level; authenticateJwtLocal shows the factor and act among custom_claims', async () => {
      const member = await addMember(client, cast.organization);
      const { redeemed } = await impersonate(server, member, { impersonatorId: 'support-42', impersonatorEmailAddress: 'kim@support.example' });
      const { payload } = decodeSessionJwt(redeemed.session_jwt);
      expect(payload.act).toEqual({ sub: 'support-42', email: 'kim@support.example' });
      expect(payload.sub).toBe(member.member_id);
      const local = await client.sessions.authenticateJwtLocal({ session_jwt: redeemed.session_jwt });
      expect(local.member_session_id).toBe(redeemed.member_session?.member_session_id);
      expect(local.authentication_factors).toEqual([
        expect.objectContaining({
          type: 'impersonated',
          delivery_method: 'impersonation',
          impersonated_factor: { impersonator_id: 'support-42', impersonator_email_address: 'kim@support.example' },
        }),
      ]);
      expect(local.custom_claims).toEqual({ act: { sub: 'support-42', email: 'kim@support.example' } });
    });

    it('sessions.revoke ends it: the token and the JWT then answer session_not_found and it leaves the active impersonations', async () => {
      const member = await addMember(client, cast.organization);
      const { redeemed } = await impersonate(server, member);
      const memberSessionId = redeemed.member_session?.member_session_id as string;
      expect((await activeImpersonations(server, { member_id: member.member_id })).map((session) => session.member_session_id)).toEqual([memberSessionId]);
      await client.sessions.revoke({ member_session_id: memberSessionId });
      await expectStytchRejection(client.sessions.authenticate({ session_token: redeemed.session_token }), SESSION_NOT_FOUND);
      await expectStytchRejection(client.sessions.authenticate({ session_jwt: redeemed.session_jwt }), SESSION_NOT_FOUND);
      expect(await liveSessions(client, member)).toEqual([]);
      expect(await activeImpersonations(server, { member_id: member.member_id })).toEqual([]);
    });

    it('the ledger lists the live impersonation with the impersonator, the reason and the hour it runs', async () => {
      const member = await addMember(client, cast.organization);
      const { redeemed } = await impersonate(server, member);
      const session = redeemed.member_session;
      expect(await activeImpersonations(server, { member_id: member.member_id })).toEqual([
        {
          member_session_id: session?.member_session_id,
          organization_id: member.organization_id,
          member_id: member.member_id,
          impersonator_id: IMPERSONATOR.id,
          impersonator_email_address: IMPERSONATOR.emailAddress,
          reason: REASON,
          started_at: session?.started_at,
          expires_at: session?.expires_at,
        },
      ]);
    });

    // Last: it moves the clock an hour ahead of real time.
    it('after 60 minutes the session is gone: session_not_found by token and JWT, absent from sessions.get and the active list', async () => {
      const member = await addMember(client, cast.organization);
      const { redeemed } = await impersonate(server, member);
      clock.advance(60 * 60_000 - 1_000);
      await client.sessions.authenticate({ session_token: redeemed.session_token });
      clock.advance(1_000);
      await expectStytchRejection(client.sessions.authenticate({ session_token: redeemed.session_token }), SESSION_NOT_FOUND);
      await expectStytchRejection(client.sessions.authenticate({ session_jwt: redeemed.session_jwt }), SESSION_NOT_FOUND);
      expect(await liveSessions(client, member)).toEqual([]);
      expect(await activeImpersonations(server, { member_id: member.member_id })).toEqual([]);
    });
  });
}
