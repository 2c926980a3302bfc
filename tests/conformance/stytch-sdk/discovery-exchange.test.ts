import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { givenDiscoveryIntermediateSession, givenMemberIntermediateSession } from '../../support/intermediate-sessions.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern } from '../../support/wire-formats.js';
import { decodeSessionJwt, minutesFrom } from './session-fixtures.js';
import {
  addMember,
  auditOf,
  createOrganization,
  emailFactorOf,
  EXCHANGE,
  expectNoOrganizationIdField,
  freshAddress,
  IST_NOT_FOUND,
  joinableBy,
  membersWithAddress,
  ORGANIZATION_NOT_FOUND,
  SESSIONS_AUTHENTICATE,
  settleAll,
} from './exchange-fixtures.js';

/**
 * client.discovery.intermediateSessions.exchange: the intermediate session of an address proved in
 * discovery becomes a member session in the organization chosen. The discovery intermediate sessions
 * here are written by a setup helper as the discovery sign-in writes them (discovery's own suite
 * proves them by email); organization-scoped ones come from a sign-in awaiting MFA.
 */
for (const store of STORES) {
  describe(`client.discovery.intermediateSessions.exchange (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
    });
    afterAll(async () => server?.stop());

    const discovered = (address: string, method?: 'magic_link' | 'email_otp') => givenDiscoveryIntermediateSession(server, address, { now: clock.now(), method });

    it('gives a pending member a session with the proof of their address, activating them; the answer matches the contract, without organization_id', async () => {
      const { address } = freshAddress();
      const organization = await createOrganization(client, 'Pending Co');
      const pending = await addMember(client, organization, address, { create_member_as_pending: true });
      expect(pending.status).toBe('pending');
      const { intermediateSessionToken } = await discovered(address);
      const now = clock.now();
      const response = await client.discovery.intermediateSessions.exchange({
        intermediate_session_token: intermediateSessionToken,
        organization_id: organization.organization_id,
        session_duration_minutes: 120,
        session_custom_claims: { team: 'blue' },
      });
      expectToMatchResponseSchema('post', EXCHANGE, response);
      expectNoOrganizationIdField(response);
      expect(response).toMatchObject({
        status_code: 200,
        member_id: pending.member_id,
        member_authenticated: true,
        intermediate_session_token: '',
        mfa_required: null,
        primary_required: null,
        member: { member_id: pending.member_id, status: 'active', email_address_verified: true },
        organization: { organization_id: organization.organization_id },
      });
      expect(response.request_id).toMatch(idPattern('request-id'));
      expect(response.session_token).toMatch(/^[A-Za-z0-9_-]{44}$/);
      const at = minutesFrom(now, 0);
      expect(response.member_session).toEqual({
        member_session_id: expect.stringMatching(idPattern('session')),
        member_id: pending.member_id,
        organization_id: organization.organization_id,
        organization_slug: organization.organization_slug,
        roles: ['stytch_member'],
        authentication_factors: [
          { type: 'magic_link', delivery_method: 'email', created_at: at, last_authenticated_at: at, updated_at: at, email_factor: emailFactorOf(pending) },
        ],
        custom_claims: { team: 'blue' },
        started_at: at,
        last_accessed_at: at,
        expires_at: minutesFrom(now, 120),
      });
      expect(decodeSessionJwt(response.session_jwt).payload.sub).toBe(pending.member_id);
      const authenticated = await client.sessions.authenticate({ session_token: response.session_token });
      expectToMatchResponseSchema('post', SESSIONS_AUTHENTICATE, authenticated);
      expect(authenticated.member_session.member_session_id).toBe(response.member_session?.member_session_id);
      expect(authenticated.member).toEqual(response.member);
      const events = await auditOf(server, response.request_id);
      expect(events.map((event) => [event.type, event.organizationId, event.memberId])).toEqual([['member.signed_in', organization.organization_id, pending.member_id]]);
      expect(events[0]?.details).toMatchObject({ method: 'discovery', factor: 'magic_link', member_authenticated: true, wrote: 'session.started', member_session_id: response.member_session?.member_session_id });
    });

    it('spends the intermediate session: a second exchange, into any organization, is intermediate_session_not_found', async () => {
      const { address } = freshAddress();
      const first = await createOrganization(client, 'First');
      const second = await createOrganization(client, 'Second');
      await addMember(client, first, address);
      await addMember(client, second, address);
      const { intermediateSessionToken } = await discovered(address);
      await client.discovery.intermediateSessions.exchange({ intermediate_session_token: intermediateSessionToken, organization_id: first.organization_id });
      await expectStytchRejection(client.discovery.intermediateSessions.exchange({ intermediate_session_token: intermediateSessionToken, organization_id: first.organization_id }), IST_NOT_FOUND);
      await expectStytchRejection(client.discovery.intermediateSessions.exchange({ intermediate_session_token: intermediateSessionToken, organization_id: second.organization_id }), IST_NOT_FOUND);
    });

    it('joins an organization that lets the domain join by email: the new member is active and verified, with the roles the domain implies', async () => {
      const { domain, address } = freshAddress('grace');
      const organization = await createOrganization(client, 'Joinable', {
        ...joinableBy(domain),
        rbac_email_implicit_role_assignments: [{ domain, role_id: 'stytch_admin' }],
      });
      const { intermediateSessionToken } = await discovered(address, 'email_otp');
      // By slug: every organization_id parameter also takes the slug.
      const response = await client.discovery.intermediateSessions.exchange({ intermediate_session_token: intermediateSessionToken, organization_id: organization.organization_slug });
      expectToMatchResponseSchema('post', EXCHANGE, response);
      expect(response.member).toMatchObject({ email_address: address, status: 'active', email_address_verified: true });
      expect(response.member.member_id).toMatch(idPattern('member'));
      expect(response.member.roles.map((role) => role.role_id)).toEqual(['stytch_member', 'stytch_admin']);
      expect(response.member_session?.roles).toEqual(['stytch_member', 'stytch_admin']);
      expect(response.member_session?.authentication_factors.map((factor) => [factor.type, factor.email_factor])).toEqual([['email_otp', emailFactorOf(response.member)]]);
      expect(await membersWithAddress(client, organization, address)).toEqual([response.member]);
      const events = await auditOf(server, response.request_id);
      expect(events.map((event) => event.type)).toEqual(['member.created', 'member.signed_in']);
      expect(events[0]?.details).toMatchObject({ status: 'active', by: 'discovery_jit_provisioning' });
    });

    it('refuses to join an organization that does not let the address join, writing nothing; the intermediate session stays usable', async () => {
      const { domain, address } = freshAddress();
      const closed = await createOrganization(client, 'Closed');
      const otherDomain = await createOrganization(client, 'Other domain', joinableBy(freshAddress().domain));
      const open = await createOrganization(client, 'Open', joinableBy(domain));
      const { intermediateSessionToken } = await discovered(address);
      const exchange = (organizationId: string) => client.discovery.intermediateSessions.exchange({ intermediate_session_token: intermediateSessionToken, organization_id: organizationId });
      const refused = await expectStytchRejection(exchange(closed.organization_id), { status: 403, errorType: 'email_jit_provisioning_not_allowed' });
      await expectStytchRejection(exchange(otherDomain.organization_id), { status: 400, errorType: 'invalid_email_for_jit_provisioning' });
      expect(await membersWithAddress(client, closed, address)).toEqual([]);
      expect(await membersWithAddress(client, otherDomain, address)).toEqual([]);
      expect(await auditOf(server, refused.request_id)).toEqual([]);
      expect((await exchange(open.organization_id)).member_authenticated).toBe(true);
    });

    it('refuses unknown, malformed and expired intermediate sessions (404), and unknown organizations without spending the session', async () => {
      const { address } = freshAddress();
      const organization = await createOrganization(client, 'Known');
      await addMember(client, organization, address);
      const exchange = (token: string, organizationId = organization.organization_id) =>
        client.discovery.intermediateSessions.exchange({ intermediate_session_token: token, organization_id: organizationId });
      await expectStytchRejection(exchange('A'.repeat(44)), IST_NOT_FOUND);
      await expectStytchRejection(exchange('not-a-token'), IST_NOT_FOUND);
      const { intermediateSessionToken } = await discovered(address);
      await expectStytchRejection(exchange(intermediateSessionToken, 'organization-test-00000000-0000-4000-8000-000000000000'), ORGANIZATION_NOT_FOUND);
      await expectStytchRejection(exchange(intermediateSessionToken, ''), ORGANIZATION_NOT_FOUND);
      expect((await exchange(intermediateSessionToken)).member_authenticated).toBe(true);
      const expiring = await discovered(address);
      clock.advance(10 * 60_000);
      await expectStytchRejection(exchange(expiring.intermediateSessionToken), IST_NOT_FOUND);
    });

    it('answers the same intermediate session token with mfa_required when the organization requires MFA, spending nothing', async () => {
      const { address } = freshAddress();
      const strict = await createOrganization(client, 'Strict', { mfa_policy: 'REQUIRED_FOR_ALL' });
      const relaxed = await createOrganization(client, 'Relaxed');
      const member = await addMember(client, strict, address, { create_member_as_pending: true });
      await addMember(client, relaxed, address);
      const { intermediateSessionToken } = await discovered(address);
      const response = await client.discovery.intermediateSessions.exchange({ intermediate_session_token: intermediateSessionToken, organization_id: strict.organization_id });
      expectToMatchResponseSchema('post', EXCHANGE, response);
      expectNoOrganizationIdField(response);
      expect(response).toMatchObject({
        member_id: member.member_id,
        member_authenticated: false,
        intermediate_session_token: intermediateSessionToken,
        member_session: null,
        session_token: '',
        session_jwt: '',
        mfa_required: { member_options: null, secondary_auth_initiated: null },
        primary_required: null,
        // The proof of the address verified it, though MFA is still to come.
        member: { status: 'active', email_address_verified: true },
      });
      const events = await auditOf(server, response.request_id);
      expect(events.map((event) => event.type)).toEqual(['member.signed_in']);
      expect(events[0]?.details).toMatchObject({ member_authenticated: false, mfa_required: true });
      // Unspent: it can still go elsewhere.
      expect((await client.discovery.intermediateSessions.exchange({ intermediate_session_token: intermediateSessionToken, organization_id: relaxed.organization_id })).member_authenticated).toBe(true);
    });

    it('answers primary_required with the allowed methods when the organization accepts no proof by email; the member is not signed in', async () => {
      const { domain, address } = freshAddress();
      const restricted = await createOrganization(client, 'Restricted', { auth_methods: 'RESTRICTED', allowed_auth_methods: ['sso', 'password'] });
      const pending = await addMember(client, restricted, address, { create_member_as_pending: true });
      const restrictedJoinable = await createOrganization(client, 'Restricted joinable', { ...joinableBy(domain), auth_methods: 'RESTRICTED', allowed_auth_methods: ['password'] });
      const byLink = await createOrganization(client, 'Links only', { auth_methods: 'RESTRICTED', allowed_auth_methods: ['magic_link'] });
      await addMember(client, byLink, address);
      const { intermediateSessionToken } = await discovered(address);
      const exchange = (organizationId: string) => client.discovery.intermediateSessions.exchange({ intermediate_session_token: intermediateSessionToken, organization_id: organizationId });
      const response = await exchange(restricted.organization_id);
      expectToMatchResponseSchema('post', EXCHANGE, response);
      expect(response).toMatchObject({
        member_authenticated: false,
        intermediate_session_token: intermediateSessionToken,
        primary_required: { allowed_auth_methods: ['sso', 'password'] },
        mfa_required: null,
        member_session: null,
        member: { member_id: pending.member_id, status: 'pending', email_address_verified: false },
      });
      // Joining just in time creates the member, pending until they sign in by a method the organization allows.
      const joined = await exchange(restrictedJoinable.organization_id);
      expect(joined).toMatchObject({ member_authenticated: false, primary_required: { allowed_auth_methods: ['password'] }, member: { email_address: address, status: 'pending' } });
      expect((await auditOf(server, joined.request_id)).map((event) => event.type)).toEqual(['member.created', 'member.signed_in']);
      // An organization that allows magic links takes the proof.
      expect((await exchange(byLink.organization_id)).member_authenticated).toBe(true);
    });

    it("moves an organization's intermediate session (MFA pending there) into another organization of the same address, or back to its own", async () => {
      const { address } = freshAddress();
      const home = await createOrganization(client, 'Home', { mfa_policy: 'REQUIRED_FOR_ALL' });
      const away = await createOrganization(client, 'Away');
      const stranger = await createOrganization(client, 'Stranger');
      const homeMember = await addMember(client, home, address);
      const awayMember = await addMember(client, away, address);
      const { intermediateSessionToken } = await givenMemberIntermediateSession(server, { organizationId: home.organization_id, memberId: homeMember.member_id, now: clock.now() });
      const exchange = (organizationId: string) => client.discovery.intermediateSessions.exchange({ intermediate_session_token: intermediateSessionToken, organization_id: organizationId });
      const back = await exchange(home.organization_id);
      expect(back).toMatchObject({ member_id: homeMember.member_id, member_authenticated: false, intermediate_session_token: intermediateSessionToken });
      await expectStytchRejection(exchange(stranger.organization_id), { status: 403, errorType: 'email_jit_provisioning_not_allowed' });
      const moved = await exchange(away.organization_id);
      expectToMatchResponseSchema('post', EXCHANGE, moved);
      expect(moved.member_id).toBe(awayMember.member_id);
      expect(moved.member_session?.organization_id).toBe(away.organization_id);
      expect(moved.member_session?.authentication_factors.map((factor) => [factor.type, factor.email_factor])).toEqual([['magic_link', emailFactorOf(awayMember)]]);
    });

    it('of 32 concurrent exchanges of one intermediate session, exactly one gets a session; the others are intermediate_session_not_found', async () => {
      const { address } = freshAddress();
      const organization = await createOrganization(client, 'Race');
      await addMember(client, organization, address, { create_member_as_pending: true });
      const { intermediateSessionToken } = await discovered(address);
      const { fulfilled, errorTypes } = await settleAll(
        Array.from({ length: 32 }, () => client.discovery.intermediateSessions.exchange({ intermediate_session_token: intermediateSessionToken, organization_id: organization.organization_id })),
      );
      expect(fulfilled.map((response) => response.member_authenticated)).toEqual([true]);
      expect(errorTypes).toEqual(Array(31).fill('intermediate_session_not_found'));
      const { member_sessions } = await client.sessions.get({ organization_id: organization.organization_id, member_id: fulfilled[0]?.member_id ?? '' });
      expect(member_sessions).toHaveLength(1);
    });

    it('of 32 concurrent exchanges that would each join the address just in time, one creates the member and gets the session', async () => {
      const { domain, address } = freshAddress();
      const organization = await createOrganization(client, 'Race to join', joinableBy(domain));
      const { intermediateSessionToken } = await discovered(address);
      const { fulfilled, errorTypes } = await settleAll(
        Array.from({ length: 32 }, () => client.discovery.intermediateSessions.exchange({ intermediate_session_token: intermediateSessionToken, organization_id: organization.organization_id })),
      );
      expect(fulfilled).toHaveLength(1);
      expect(errorTypes).toEqual(Array(31).fill('intermediate_session_not_found'));
      expect(await membersWithAddress(client, organization, address)).toHaveLength(1);
    });
  });
}
