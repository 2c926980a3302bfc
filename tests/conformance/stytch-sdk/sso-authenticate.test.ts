import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { givenExternalConnection, mintSsoToken, storedConnection } from '../../support/sso-tokens.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern } from '../../support/wire-formats.js';
import { discover } from './discovery-fixtures.js';
import { auditOfRequest, createMember, membersOf } from './email-sign-in-fixtures.js';
import { codeAt } from './mfa-fixtures.js';
import { AUTHENTICATE, decodeSessionJwt, minutesFrom, SESSION_CLAIM } from './session-fixtures.js';
import { CLI, createSsoOrganization, givenImplicitRoles, PROJECT_POLICY, signInByMagicLink, SSO_REGISTRATION, ssoAuthenticate } from './sso-authenticate-fixtures.js';

/**
 * client.sso.authenticate as Stytch answers it, and what it does to members: the token an IdP's
 * verified answer ended with (minted by the server's own SsoFlows, tests/support/sso-tokens.ts)
 * signs in the member linked to the IdP subject, else the member with the asserted address, else a
 * member provisioned just in time; it records the registration, the groups (SSO implicit roles),
 * and the `sso` factor, and the sign-in pipeline's MFA and session rules apply. Refusals are in
 * sso-authenticate-refusals.test.ts.
 */
for (const store of STORES) {
  describe(`client.sso.authenticate (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      await server.server.app.services.rbacPolicy.apply(CLI, PROJECT_POLICY, { source: 'cli' });
    });
    afterAll(async () => server?.stop());

    it('a new address joins just in time (sso_jit_provisioning ALL_ALLOWED): an active, verified member named by the IdP, with its registration and a session holding the saml factor', async () => {
      const acme = await createSsoOrganization(server, 'saml', { sso_jit_provisioning: 'ALL_ALLOWED' });
      const email = acme.address('jit');
      const attributes = { email, department: 'Research', roles: ['a', 'b'] };
      const { token, location } = await mintSsoToken(server, acme.connectionId, { subject: `nameid-${email}`, emailAddress: email, name: 'Ada Lovelace', attributes });
      expect(location.startsWith('http://localhost:3000/authenticate?stytch_token_type=sso&token=')).toBe(true);

      const now = clock.now();
      const response = await ssoAuthenticate(client, token);
      expect(response).toMatchObject({
        status_code: 200,
        organization_id: acme.organization.organization_id,
        member_authenticated: true,
        intermediate_session_token: '',
        mfa_required: null,
        reset_session: false,
      });
      expect(response.request_id).toMatch(idPattern('request-id'));
      const { member } = response;
      expect(member).toMatchObject({ email_address: email, status: 'active', email_address_verified: true, name: 'Ada Lovelace' });
      expect(member.sso_registrations).toEqual([
        { connection_id: acme.connectionId, external_id: `nameid-${email}`, registration_id: expect.stringMatching(SSO_REGISTRATION.saml), sso_attributes: attributes },
      ]);
      const registrationId = member.sso_registrations[0]?.registration_id;
      const at = minutesFrom(now, 0);
      expect(response.member_session?.authentication_factors).toEqual([
        {
          type: 'sso',
          delivery_method: 'sso_saml',
          saml_sso_factor: { id: registrationId, provider_id: acme.connectionId, external_id: `nameid-${email}` },
          created_at: at,
          last_authenticated_at: at,
          updated_at: at,
        },
      ]);
      expect(response.member_session?.expires_at).toBe(minutesFrom(now, 60));
      expect(member).toEqual((await client.organizations.members.get({ organization_id: acme.organization.organization_id, member_id: member.member_id })).member);

      const events = await auditOfRequest(server, response.request_id);
      expect(events.map((event) => event.type)).toEqual(['member.created', 'member.signed_in']);
      expect(events[0]?.details).toMatchObject({ status: 'active', by: 'sso_jit_provisioning', connection_id: acme.connectionId });
      expect(events[1]).toMatchObject({ memberId: member.member_id, details: { method: 'sso', factor: 'sso', member_authenticated: true } });

      const checked = await client.sessions.authenticate({ session_token: response.session_token });
      expectToMatchResponseSchema('post', AUTHENTICATE, checked);
      expect(checked.member_session.member_session_id).toBe(response.member_session?.member_session_id);
      expect((await client.sessions.authenticate({ session_jwt: response.session_jwt })).member.member_id).toBe(member.member_id);
    });

    it('an OIDC connection gives the sso_oidc factor and an oidc registration; session_duration_minutes and custom claims apply', async () => {
      const acme = await createSsoOrganization(server, 'oidc');
      const email = acme.address('oidc');
      const { token } = await mintSsoToken(server, acme.connectionId, { subject: 'oidc-sub-1', emailAddress: email, name: 'Grace Hopper' });
      const now = clock.now();
      const response = await ssoAuthenticate(client, token, { session_duration_minutes: 120, session_custom_claims: { plan: 'pro' } });
      const registration = response.member.sso_registrations[0];
      expect(registration?.registration_id).toMatch(SSO_REGISTRATION.oidc);
      expect(response.member_session?.authentication_factors).toEqual([
        expect.objectContaining({ type: 'sso', delivery_method: 'sso_oidc', oidc_sso_factor: { id: registration?.registration_id, provider_id: acme.connectionId, external_id: 'oidc-sub-1' } }),
      ]);
      expect(response.member_session?.expires_at).toBe(minutesFrom(now, 120));
      expect(response.member_session?.custom_claims).toEqual({ plan: 'pro' });
      expect(decodeSessionJwt(response.session_jwt).payload.plan).toBe('pro');
    });

    it("an external connection signs members in to its own organization, through the borrowed connection's IdP; the factor names the external connection", async () => {
      const owner = await createSsoOrganization(server);
      const borrower = await createSsoOrganization(server);
      const source = await storedConnection(server, owner.connectionId);
      if (source.kind === 'external') throw new Error('expected a SAML connection');
      const external = await givenExternalConnection(server, borrower.organization.organization_id, source);
      await givenImplicitRoles(server, borrower.organization, [{ connectionId: external.connectionId, roleId: 'analyst' }]);
      const email = borrower.address('borrowed');
      const response = await ssoAuthenticate(client, (await mintSsoToken(server, external.connectionId, { subject: 'b-1', emailAddress: email })).token);
      expect(response.organization_id).toBe(borrower.organization.organization_id);
      expect(response.member.sso_registrations).toEqual([expect.objectContaining({ connection_id: external.connectionId, external_id: 'b-1' })]);
      expect(response.member_session?.authentication_factors).toEqual([
        expect.objectContaining({ delivery_method: 'sso_saml', saml_sso_factor: expect.objectContaining({ provider_id: external.connectionId }) }),
      ]);
      expect(response.member_session?.roles).toEqual(['stytch_member', 'analyst']);
      expect(await membersOf(client, owner.organization)).toEqual([]);
    });

    it('RESTRICTED provisions through a connection in sso_jit_provisioning_allowed_connections', async () => {
      const acme = await createSsoOrganization(server);
      await client.organizations.update({
        organization_id: acme.organization.organization_id,
        sso_jit_provisioning: 'RESTRICTED',
        sso_jit_provisioning_allowed_connections: [acme.connectionId],
      });
      const email = acme.address('restricted');
      const response = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'restricted-1', emailAddress: email })).token);
      expect(response.member).toMatchObject({ email_address: email, status: 'active' });
    });

    it('an existing member is found by address: verified, an empty name filled from the IdP, a name of their own kept; no member is created', async () => {
      const acme = await createSsoOrganization(server, 'saml', { sso_jit_provisioning: 'NOT_ALLOWED' });
      const unnamed = await createMember(client, acme.organization, acme.address('unnamed'));
      const named = await createMember(client, acme.organization, acme.address('named'), { name: 'Chosen Name' });
      expect([unnamed.email_address_verified, named.email_address_verified]).toEqual([false, false]);

      const first = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'u-1', emailAddress: unnamed.email_address.toUpperCase(), name: 'From IdP' })).token);
      expect(first.member).toMatchObject({ member_id: unnamed.member_id, email_address_verified: true, name: 'From IdP', status: 'active' });
      const second = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'n-1', emailAddress: named.email_address, name: 'From IdP' })).token);
      expect(second.member).toMatchObject({ member_id: named.member_id, email_address_verified: true, name: 'Chosen Name' });
      expect((await auditOfRequest(server, second.request_id)).map((event) => event.type)).toEqual(['member.signed_in']);
      expect(await membersOf(client, acme.organization)).toHaveLength(2);
    });

    it('a pending member, and an invited one, become active with a verified address', async () => {
      const acme = await createSsoOrganization(server);
      const pending = await createMember(client, acme.organization, acme.address('pending'), { create_member_as_pending: true });
      const invitedAddress = acme.address('invited');
      const invited = (await client.magicLinks.email.invite({ organization_id: acme.organization.organization_id, email_address: invitedAddress })).member;
      expect([pending.status, invited.status]).toEqual(['pending', 'invited']);
      for (const member of [pending, invited]) {
        const response = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: `s-${member.member_id}`, emailAddress: member.email_address })).token);
        expect(response.member).toMatchObject({ member_id: member.member_id, status: 'active', email_address_verified: true });
      }
    });

    it('the same IdP subject with a changed address is the same member: the registration keeps its id, its attributes are replaced, the address is not copied', async () => {
      const acme = await createSsoOrganization(server);
      const email = acme.address('moves');
      const first = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'stable-subject', emailAddress: email, attributes: { email, title: 'Engineer' } })).token);
      const moved = acme.address('moved');
      const second = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'stable-subject', emailAddress: moved, attributes: { email: moved } })).token);
      expect(second.member.member_id).toBe(first.member.member_id);
      expect(second.member.email_address).toBe(email);
      expect(second.member.sso_registrations).toEqual([{ ...first.member.sso_registrations[0], sso_attributes: { email: moved } }]);
      expect(await membersOf(client, acme.organization)).toHaveLength(1);
    });

    it('groups asserted by the IdP give the connection and group implicit roles in this session only; later groups replace them', async () => {
      const acme = await createSsoOrganization(server);
      await givenImplicitRoles(server, acme.organization, [
        { connectionId: acme.connectionId, roleId: 'analyst' },
        { connectionId: acme.connectionId, group: 'publishers', roleId: 'publisher' },
        { connectionId: acme.connectionId, group: 'admins', roleId: 'stytch_admin' },
      ]);
      const email = acme.address('groups');
      const response = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'g-1', emailAddress: email, groups: ['publishers', 'readers'] })).token);
      expect(response.member_session?.roles).toEqual(['stytch_member', 'analyst', 'publisher']);
      expect(decodeSessionJwt(response.session_jwt).payload[SESSION_CLAIM]).toMatchObject({ roles: ['stytch_member', 'analyst', 'publisher'] });
      expect(response.member.roles).toEqual([
        { role_id: 'stytch_member', sources: [{ type: 'direct_assignment', details: {} }] },
        { role_id: 'analyst', sources: [{ type: 'sso_connection', details: { connection_id: acme.connectionId } }] },
        { role_id: 'publisher', sources: [{ type: 'sso_connection_group', details: { connection_id: acme.connectionId, group: 'publishers' } }] },
      ]);
      const verdict = await client.sessions.authenticate({
        session_token: response.session_token,
        authorization_check: { organization_id: acme.organization.organization_id, resource_id: 'reports', action: 'publish' },
      });
      expect(verdict.verdict).toEqual({ authorized: true, granting_roles: ['publisher'] });

      // A magic-link session of the same member holds no SSO factor, so none of those roles.
      const byEmail = await signInByMagicLink(server, acme.organization, email);
      expect(byEmail.member_session?.roles).toEqual(['stytch_member']);
      expect((await client.sessions.authenticate({ session_token: byEmail.session_token })).member_session.roles).toEqual(['stytch_member']);

      const again = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'g-1', emailAddress: email, groups: ['admins'] })).token);
      expect(again.member_session?.roles).toEqual(['stytch_member', 'analyst', 'stytch_admin']);
      expect(again.member.is_admin).toBe(true);
      expect(again.member.roles.map((role) => role.role_id)).toEqual(['stytch_member', 'analyst', 'stytch_admin']);
    });

    it('mfa_policy REQUIRED_FOR_ALL: an intermediate session naming what is missing, completed by a TOTP code into a session holding both factors and the SSO roles', async () => {
      const acme = await createSsoOrganization(server, 'saml', { mfa_policy: 'REQUIRED_FOR_ALL' });
      await givenImplicitRoles(server, acme.organization, [{ connectionId: acme.connectionId, roleId: 'analyst' }]);
      const email = acme.address('mfa');
      const primary = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'mfa-1', emailAddress: email })).token);
      expect(primary).toMatchObject({
        member_authenticated: false,
        session_token: '',
        session_jwt: '',
        member_session: null,
        mfa_required: { member_options: null, secondary_auth_initiated: null },
        primary_required: null,
        reset_session: false,
      });
      expect(primary.intermediate_session_token).not.toBe('');
      // The member joined (and was verified) whatever factor is still missing.
      expect(primary.member).toMatchObject({ email_address: email, status: 'active', email_address_verified: true });
      const events = await auditOfRequest(server, primary.request_id);
      expect(events.map((event) => event.type)).toEqual(['member.created', 'member.signed_in']);
      expect(events[1]?.details).toMatchObject({ method: 'sso', member_authenticated: false, mfa_required: true });

      const target = { organization_id: acme.organization.organization_id, member_id: primary.member_id };
      const created = await client.totps.create({ ...target, intermediate_session_token: primary.intermediate_session_token });
      const done = await client.totps.authenticate({ ...target, code: codeAt(created.secret, clock), intermediate_session_token: primary.intermediate_session_token });
      expect(done.member_session?.authentication_factors.map((factor) => [factor.type, factor.delivery_method])).toEqual([
        ['sso', 'sso_saml'],
        ['totp', 'authenticator_app'],
      ]);
      expect(done.member_session?.roles).toEqual(['stytch_member', 'analyst']);
    });

    it('a discovery intermediate session of the same address is completed into a session holding both factors, and spent', async () => {
      const acme = await createSsoOrganization(server);
      const email = acme.address('discovered');
      const discovered = await discover(server, email);
      const response = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'd-1', emailAddress: email })).token, {
        intermediate_session_token: discovered.intermediate_session_token,
      });
      expect(response.member_authenticated).toBe(true);
      expect(response.member_session?.authentication_factors.map((factor) => [factor.type, factor.delivery_method])).toEqual([
        ['magic_link', 'email'],
        ['sso', 'sso_saml'],
      ]);
      await expectStytchRejection(
        client.discovery.intermediateSessions.exchange({ intermediate_session_token: discovered.intermediate_session_token, organization_id: acme.organization.organization_id }),
        { status: 404, errorType: 'intermediate_session_not_found' },
      );
    });

    it("a session_token (or session_jwt) of the same member gets the sso factor added; another member's is ignored", async () => {
      const acme = await createSsoOrganization(server);
      const email = acme.address('step-up');
      await createMember(client, acme.organization, email);
      const byEmail = await signInByMagicLink(server, acme.organization, email);
      const response = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'up-1', emailAddress: email })).token, {
        session_token: byEmail.session_token,
      });
      expect(response.session_token).toBe(byEmail.session_token);
      expect(response.member_session?.member_session_id).toBe(byEmail.member_session?.member_session_id);
      expect(response.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['magic_link', 'sso']);

      const byJwt = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'up-1', emailAddress: email })).token, { session_jwt: response.session_jwt });
      expect(byJwt.member_session?.member_session_id).toBe(byEmail.member_session?.member_session_id);

      const other = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'other-1', emailAddress: acme.address('other') })).token, {
        session_token: byEmail.session_token,
      });
      expect(other.member_session?.member_session_id).not.toBe(byEmail.member_session?.member_session_id);
      expect(other.member_session?.authentication_factors.map((factor) => factor.type)).toEqual(['sso']);
    });

    it('a deleted member lets go of the IdP subject: the next sign-in of that subject is a new member; the deleted one keeps no registration', async () => {
      const acme = await createSsoOrganization(server);
      const email = acme.address('leaver');
      const first = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'leaver-1', emailAddress: email, groups: ['g'] })).token);
      await client.organizations.members.delete({ organization_id: acme.organization.organization_id, member_id: first.member_id });
      const deleted = (await membersOf(client, acme.organization)).find((member) => member.member_id === first.member_id);
      expect(deleted).toMatchObject({ status: 'deleted', sso_registrations: [] });

      const second = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'leaver-1', emailAddress: email })).token);
      expect(second.member_id).not.toBe(first.member_id);
      expect(second.member.sso_registrations).toHaveLength(1);
      expect(second.member.sso_registrations[0]?.registration_id).not.toBe(first.member.sso_registrations[0]?.registration_id);

      // Reactivation would need the address back: delete the new member, reactivate the first.
      await client.organizations.members.delete({ organization_id: acme.organization.organization_id, member_id: second.member_id });
      const reactivated = await client.organizations.members.reactivate({ organization_id: acme.organization.organization_id, member_id: first.member_id });
      expect(reactivated.member.sso_registrations).toEqual([]);
      const back = await ssoAuthenticate(client, (await mintSsoToken(server, acme.connectionId, { subject: 'leaver-1', emailAddress: email })).token);
      expect(back.member_id).toBe(first.member_id);
    });
  });
}
