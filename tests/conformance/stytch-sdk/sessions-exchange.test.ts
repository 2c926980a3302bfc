import type { B2BClient, Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthenticationFactor } from '../../../src/domain/sessions/session.js';
import { AUTH_METHODS } from '../../../src/domain/organizations/organization.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { impersonate } from '../../support/impersonation.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { emailFactor, givenFactor, startTestSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern } from '../../support/wire-formats.js';
import { minutesFrom } from './session-fixtures.js';
import {
  addMember,
  auditOf,
  createOrganization,
  emailFactorOf,
  EXCHANGE,
  expectNoOrganizationIdField,
  freshAddress,
  joinableBy,
  membersWithAddress,
  ORGANIZATION_NOT_FOUND,
  SESSIONS_AUTHENTICATE,
  SESSIONS_EXCHANGE,
} from './exchange-fixtures.js';

const SESSION_NOT_FOUND = { status: 404, errorType: 'session_not_found' } as const;

/**
 * client.sessions.exchange: a member's session moves into another organization where their address
 * is a member too. The source sessions are started through the sign-in pipeline (test setup) with
 * the factor each test needs.
 */
for (const store of STORES) {
  describe(`client.sessions.exchange (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
    });
    afterAll(async () => server?.stop());

    /** The address is an active member of `home` with a live session proved by `factor` (an email magic link by default). */
    async function signedInAt(home: Organization, address: string, factor?: AuthenticationFactor) {
      const member = await addMember(client, home, address);
      const session = await startTestSession(server, { organizationId: home.organization_id, memberId: member.member_id, ...(factor && { factor }) });
      return { member, ...session };
    }

    /** Adds `factor` to the member's presented session through the sign-in pipeline (test setup). */
    async function addFactor(member: Member, factor: AuthenticationFactor, sessionToken: string): Promise<void> {
      const { store, app } = server.server;
      const organization = await store.organizations.findOrganization(member.organization_id);
      const stored = await store.members.findMember(member.organization_id, member.member_id);
      if (organization === undefined || stored === undefined) throw new Error('no such member');
      const context = { requestId: 'request-id-test-00000000-0000-4000-8000-00000000000d', actor: { type: 'system' as const } };
      await app.services.signIn.signIn(context, givenFactor(stored, organization, factor), { sessionToken });
    }

    it('asks for a primary factor, never answering 500, when the session proved an address the member no longer has, even for a break-glass member there', async () => {
      const { address } = freshAddress();
      const { address: newAddress } = freshAddress();
      const home = await createOrganization(client, 'Home');
      const away = await createOrganization(client, 'Away');
      const source = await signedInAt(home, address);
      // The member changes address, keeping the session (which proved the old one only).
      await client.organizations.members.update({ organization_id: home.organization_id, member_id: source.member.member_id, email_address: newAddress, preserve_existing_sessions: true });
      const breakglass = await client.organizations.members.create({ organization_id: away.organization_id, email_address: newAddress, is_breakglass: true });
      const response = await client.sessions.exchange({ organization_id: away.organization_id, session_token: source.sessionToken });
      expectToMatchResponseSchema('post', SESSIONS_EXCHANGE, response);
      expect(response).toMatchObject({ member_id: breakglass.member.member_id, member_authenticated: false, member_session: null, session_token: '' });
      expect(response.primary_required?.allowed_auth_methods).toEqual([...AUTH_METHODS]);
      expect(response.intermediate_session_token).toMatch(/^[A-Za-z0-9_-]{44}$/);
    });

    it('starts a session in the other organization with the proof of the address, accepting an invitation; the source session stays', async () => {
      const { address } = freshAddress();
      const home = await createOrganization(client, 'Home');
      const away = await createOrganization(client, 'Away');
      const source = await signedInAt(home, address);
      const { member: invited } = await client.magicLinks.email.invite({ organization_id: away.organization_id, email_address: address });
      expect(invited.status).toBe('invited');
      const now = clock.now();
      const response = await client.sessions.exchange({ organization_id: away.organization_id, session_token: source.sessionToken, session_duration_minutes: 15, session_custom_claims: { moved: true } });
      expectToMatchResponseSchema('post', SESSIONS_EXCHANGE, response);
      expectNoOrganizationIdField(response);
      expect(response).toMatchObject({
        status_code: 200,
        member_id: invited.member_id,
        member_authenticated: true,
        intermediate_session_token: '',
        mfa_required: null,
        primary_required: null,
        member: { member_id: invited.member_id, status: 'active', email_address_verified: true },
        organization: { organization_id: away.organization_id },
      });
      expect(response.request_id).toMatch(idPattern('request-id'));
      expect(response.member_session).toMatchObject({
        member_id: invited.member_id,
        organization_id: away.organization_id,
        custom_claims: { moved: true },
        expires_at: minutesFrom(now, 15),
      });
      expect(response.member_session?.member_session_id).not.toBe(source.memberSessionId);
      expect(response.member_session?.authentication_factors.map((factor) => [factor.type, factor.delivery_method, factor.email_factor])).toEqual([
        ['magic_link', 'email', emailFactorOf(invited)],
      ]);
      const moved = await client.sessions.authenticate({ session_token: response.session_token });
      expectToMatchResponseSchema('post', SESSIONS_AUTHENTICATE, moved);
      expect(moved.member.member_id).toBe(invited.member_id);
      const stayed = await client.sessions.authenticate({ session_token: source.sessionToken });
      expect(stayed.member_session.member_session_id).toBe(source.memberSessionId);
      const events = await auditOf(server, response.request_id);
      expect(events.map((event) => [event.type, event.organizationId, event.memberId])).toEqual([['member.signed_in', away.organization_id, invited.member_id]]);
      expect(events[0]?.details).toMatchObject({ from_member_session_id: source.memberSessionId, factor: 'magic_link', method: 'session_exchange', wrote: 'session.started' });
    });

    it('takes the session by JWT too, and carries only proofs of the address, not the other factors', async () => {
      const { address } = freshAddress();
      const home = await createOrganization(client, 'Home by JWT');
      const away = await createOrganization(client, 'Away by JWT');
      const at = minutesFrom(clock.now(), 0);
      const source = await signedInAt(home, address, emailFactor(address, at));
      // A second factor joins the source session, as an authenticator app sign-in would add it.
      const totp: AuthenticationFactor = { type: 'totp', deliveryMethod: 'authenticator_app', createdAt: at, lastAuthenticatedAt: at, updatedAt: at };
      await addFactor(source.member, totp, source.sessionToken);
      const before = await client.sessions.authenticate({ session_token: source.sessionToken });
      expect(before.member_session.authentication_factors.map((factor) => factor.type)).toEqual(['magic_link', 'totp']);
      const awayMember = await addMember(client, away, address);
      const response = await client.sessions.exchange({ organization_id: away.organization_slug, session_jwt: before.session_jwt });
      expectToMatchResponseSchema('post', SESSIONS_EXCHANGE, response);
      expect(response.member_id).toBe(awayMember.member_id);
      expect(response.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['magic_link']);
    });

    it('answers an intermediate session with mfa_required when the other organization requires MFA; it can complete there', async () => {
      const { address } = freshAddress();
      const home = await createOrganization(client, 'Home MFA');
      const strict = await createOrganization(client, 'Strict', { mfa_policy: 'REQUIRED_FOR_ALL' });
      const source = await signedInAt(home, address);
      const strictMember = await addMember(client, strict, address);
      const response = await client.sessions.exchange({ organization_id: strict.organization_id, session_token: source.sessionToken });
      expectToMatchResponseSchema('post', SESSIONS_EXCHANGE, response);
      expect(response).toMatchObject({
        member_id: strictMember.member_id,
        member_authenticated: false,
        member_session: null,
        session_token: '',
        session_jwt: '',
        mfa_required: { member_options: null, secondary_auth_initiated: null },
        primary_required: null,
      });
      expect(response.intermediate_session_token).toMatch(/^[A-Za-z0-9_-]{44}$/);
      const events = await auditOf(server, response.request_id);
      expect(events.map((event) => event.type)).toEqual(['member.signed_in']);
      expect(events[0]?.details).toMatchObject({ wrote: 'intermediate_session.started', member_authenticated: false, mfa_required: true });
      // The intermediate session carries the proof: it can be exchanged into the strict organization (still MFA), or another one.
      const again = await client.discovery.intermediateSessions.exchange({ intermediate_session_token: response.intermediate_session_token, organization_id: strict.organization_id });
      expectToMatchResponseSchema('post', EXCHANGE, again);
      expect(again).toMatchObject({ member_authenticated: false, intermediate_session_token: response.intermediate_session_token });
    });

    it('answers primary_required when the other organization accepts no proof by email, or the session holds none', async () => {
      const { address } = freshAddress();
      const home = await createOrganization(client, 'Home restricted');
      const restricted = await createOrganization(client, 'Passwords only', { auth_methods: 'RESTRICTED', allowed_auth_methods: ['password'] });
      const open = await createOrganization(client, 'Open to all methods');
      const source = await signedInAt(home, address);
      const pending = await addMember(client, restricted, address, { create_member_as_pending: true });
      await addMember(client, open, address);
      const response = await client.sessions.exchange({ organization_id: restricted.organization_id, session_token: source.sessionToken });
      expectToMatchResponseSchema('post', SESSIONS_EXCHANGE, response);
      expect(response).toMatchObject({
        member_authenticated: false,
        primary_required: { allowed_auth_methods: ['password'] },
        mfa_required: null,
        member: { member_id: pending.member_id, status: 'pending' },
      });
      const at = minutesFrom(clock.now(), 0);
      const password: AuthenticationFactor = { type: 'password', deliveryMethod: 'knowledge', createdAt: at, lastAuthenticatedAt: at, updatedAt: at };
      const { address: other } = freshAddress('pat');
      const byPassword = await signedInAt(home, other, password);
      await addMember(client, open, other);
      const nothingToCarry = await client.sessions.exchange({ organization_id: open.organization_id, session_token: byPassword.sessionToken });
      expectToMatchResponseSchema('post', SESSIONS_EXCHANGE, nothingToCarry);
      expect(nothingToCarry).toMatchObject({ member_authenticated: false, primary_required: { allowed_auth_methods: [...AUTH_METHODS] } });
    });

    it('refuses an impersonated session: acting as a member does not extend to their other organizations', async () => {
      const { address } = freshAddress();
      const home = await createOrganization(client, 'Home impersonated');
      const away = await createOrganization(client, 'Away impersonated');
      const member: Member = await addMember(client, home, address);
      await addMember(client, away, address);
      const { redeemed } = await impersonate(server, member);
      const refused = await expectStytchRejection(client.sessions.exchange({ organization_id: away.organization_id, session_token: redeemed.session_token }), {
        status: 400,
        errorType: 'session_not_mutable_impersonated',
      });
      expect(await auditOf(server, refused.request_id)).toEqual([]);
      const { member_sessions } = await client.sessions.get({ organization_id: away.organization_id, member_id: (await membersWithAddress(client, away, address))[0]?.member_id ?? '' });
      expect(member_sessions).toEqual([]);
    });

    it('refuses a missing or doubled session argument (400), a dead session (404), an unknown organization and one where the address is no member, even one it could join by domain', async () => {
      const { domain, address } = freshAddress();
      const home = await createOrganization(client, 'Home refusals', joinableBy(domain));
      const joinable = await createOrganization(client, 'Joinable by domain', joinableBy(domain));
      const source = await signedInAt(home, address);
      const exchange = (body: Record<string, unknown>) => client.sessions.exchange({ organization_id: home.organization_id, ...body });
      await expectStytchRejection(exchange({}), { status: 400, errorType: 'no_session_arguments' });
      await expectStytchRejection(exchange({ session_token: source.sessionToken, session_jwt: source.sessionJwt }), { status: 400, errorType: 'too_many_session_arguments' });
      await expectStytchRejection(exchange({ session_token: 'C'.repeat(44) }), SESSION_NOT_FOUND);
      await expectStytchRejection(exchange({ session_token: source.sessionToken, organization_id: 'no-such-organization' }), ORGANIZATION_NOT_FOUND);
      const refused = await expectStytchRejection(exchange({ session_token: source.sessionToken, organization_id: joinable.organization_id }), { status: 404, errorType: 'member_not_found' });
      expect(await auditOf(server, refused.request_id)).toEqual([]);
      expect(await membersWithAddress(client, joinable, address)).toEqual([]);
      await client.sessions.revoke({ session_token: source.sessionToken });
      await expectStytchRejection(exchange({ session_token: source.sessionToken }), SESSION_NOT_FOUND);
    });
  });
}
